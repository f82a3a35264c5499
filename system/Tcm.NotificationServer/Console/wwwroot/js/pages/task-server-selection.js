// How agents choose their Task Server, on the Task Servers and gateways page: the method, and for the ordered list the Task Servers
// in order per site (the agent's `site` attribute; `*` for agents of any other site). Saved with PUT /task-servers/selection; the
// server then sends every connected agent its new policy.
import { api } from '../api.js';
import { html, mount, toast, errorBox } from '../ui.js';

const methods = [
  ['fewest-computers', 'Fewest computers', 'The Task Server with the fewest registered agents first.'],
  ['available-capacity', 'Available capacity', 'The Task Server with the most free registrations (its limit less its agents) first.'],
  ['fastest-connection', 'Fastest connection', 'The Task Server the agent itself connects to fastest: it measures its connect time to each when it chooses (on the direct route; through a gateway it cannot tell them apart and takes the one with the fewest computers).'],
  ['ordered-list', 'Ordered list', "The order below for the agent's site; agents of a site not listed use the list for any other site."],
];

const anySite = '*';
const siteLabel = (site) => (site === anySite ? 'Any other site (*)' : site);

/** Fills `host` with the selection editor for `taskServers` (the registered ones, for their names). */
export async function showSelection(host, taskServers) {
  let selection;
  try {
    selection = await api.taskServerSelection();
  } catch (e) {
    mount(host, errorBox(e));
    return;
  }
  // The editor's own copy: a Map keeps the sites in the order the administrator added them.
  let method = selection.selection;
  let sites = new Map(Object.entries(selection.orderedBySite ?? {}).map(([site, ids]) => [site, [...ids]]));
  const names = new Map(taskServers.map((t) => [t.id, t.name]));
  const nameOf = (id) => names.get(id) ?? taskServers.find((t) => t.name.toLowerCase() === String(id).toLowerCase())?.name;

  function render() {
    mount(host, html`
      <div class="pad ts-methods" role="radiogroup" aria-label="Selection method">
        ${methods.map(([value, label, text]) => html`<label class="check"><input type="radio" name="ts-method" value="${value}" ${value === method ? 'checked' : ''}>
          <span><strong>${label}</strong><br><span class="muted small">${text}</span></span></label>`)}
      </div>
      ${method === 'ordered-list' ? orderedList() : ''}
      <div class="pad form-actions"><button class="btn btn-primary" id="ts-selection-save" type="button">Save selection</button>
        <span class="muted small">Connected agents get their new policy at once; an agent keeps the Task Server it uses while it works.</span></div>`);
  }

  function orderedList() {
    return html`<div class="pad ts-order" id="ts-order">
      ${sites.size === 0 ? html`<p class="muted small" data-sites="none">No site has a list yet: agents take the Task Servers in the order they registered. Add a site, or * for every site not listed.</p>` : ''}
      ${[...sites].map(([site, ids]) => html`<div class="ts-site" data-site="${site}">
        <div class="ts-site-head"><h3>${siteLabel(site)}</h3><button class="btn btn-small btn-danger-ghost" type="button" data-remove-site="${site}">Remove site</button></div>
        <ol class="ts-list">${ids.map((id, i) => html`<li data-ts="${id}">
          <span class="strong">${nameOf(id) ?? id}</span>${nameOf(id) ? '' : html` <span class="badge badge-amber">not registered</span>`}
          <span class="spacer"></span>
          <button class="btn btn-small btn-ghost" type="button" data-move="-1" data-index="${i}" data-site="${site}" ${i === 0 ? 'disabled' : ''} aria-label="Move ${nameOf(id) ?? id} up">↑</button>
          <button class="btn btn-small btn-ghost" type="button" data-move="1" data-index="${i}" data-site="${site}" ${i === ids.length - 1 ? 'disabled' : ''} aria-label="Move ${nameOf(id) ?? id} down">↓</button>
          <button class="btn btn-small btn-danger-ghost" type="button" data-remove-index="${i}" data-site="${site}">Remove</button>
        </li>`)}</ol>
        ${addServer(site, ids)}
      </div>`)}
      <div class="ts-add-site"><input id="ts-new-site" placeholder="Site (the agents' site attribute), or * for any other site" maxlength="128">
        <button class="btn btn-small" type="button" id="ts-add-site">Add site</button></div>
    </div>`;
  }

  function addServer(site, ids) {
    const left = taskServers.filter((t) => !ids.includes(t.id) && !ids.some((i) => String(i).toLowerCase() === t.name.toLowerCase()));
    if (left.length === 0) return '';
    return html`<div class="ts-add"><select data-add-to="${site}" aria-label="Task Server to add to ${siteLabel(site)}">
        ${left.map((t) => html`<option value="${t.id}">${t.name}</option>`)}</select>
      <button class="btn btn-small" type="button" data-add="${site}">Add Task Server</button></div>`;
  }

  async function save(button) {
    button.disabled = true;
    try {
      const saved = await api.saveTaskServerSelection({ selection: method, orderedBySite: Object.fromEntries(sites) });
      method = saved.selection;
      sites = new Map(Object.entries(saved.orderedBySite ?? {}).map(([site, ids]) => [site, [...ids]]));
      toast('Task Server selection saved; connected agents get it now', 'success');
    } catch (e) {
      toast(e.message, 'error');
    }
    render();
  }

  host.addEventListener('change', (event) => {
    if (event.target.name === 'ts-method') { method = event.target.value; render(); }
  });
  host.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    const d = button.dataset;
    if (button.id === 'ts-selection-save') { save(button); return; }
    if (button.id === 'ts-add-site') {
      const site = host.querySelector('#ts-new-site').value.trim();
      if (!site) return;
      if (!sites.has(site)) sites.set(site, []);
    } else if (d.removeSite !== undefined) {
      sites.delete(d.removeSite);
    } else if (d.add !== undefined) {
      sites.get(d.add).push(host.querySelector(`select[data-add-to="${CSS.escape(d.add)}"]`).value);
    } else if (d.move !== undefined) {
      const ids = sites.get(d.site);
      const from = Number(d.index);
      const to = from + Number(d.move);
      [ids[from], ids[to]] = [ids[to], ids[from]];
    } else if (d.removeIndex !== undefined) {
      sites.get(d.site).splice(Number(d.removeIndex), 1);
    } else {
      return;
    }
    render();
  });

  render();
}
