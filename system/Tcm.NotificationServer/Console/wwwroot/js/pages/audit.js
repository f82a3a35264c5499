// Audit trail: every change administrators made (who, when, what, the values before and after), newest first, filtered and paged.
import { api } from '../api.js';
import { html, $, mount, fmtTime, emptyState, debounce, pagerBar, pager } from '../ui.js';

const pageSize = 25;
const kinds = ['settings', 'profile', 'agent-settings', 'install-package', 'action', 'terminate', 'certificate', 'site-server', 'key'];

/** The leaves of a JSON value as path → text, so two values compare field by field. */
function leaves(value, path = '', out = new Map()) {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v]) : Object.entries(value).map(([k, v]) => [path ? `.${k}` : k, v]);
    if (entries.length === 0) out.set(path || '(value)', Array.isArray(value) ? '[]' : '{}');
    for (const [key, inner] of entries) leaves(inner, path + key, out);
  } else if (value !== undefined) {
    out.set(path || '(value)', JSON.stringify(value));
  }
  return out;
}

/** What changed: each field whose value differs, with its value before and after (all fields of a create or a delete). */
export function changes(before, after) {
  const was = before == null ? new Map() : leaves(before);
  const now = after == null ? new Map() : leaves(after);
  const paths = [...new Set([...was.keys(), ...now.keys()])].sort();
  return paths.filter((p) => was.get(p) !== now.get(p)).map((p) => ({ path: p, was: was.get(p), now: now.get(p) }));
}

function changeTable(entry) {
  const rows = changes(entry.before, entry.after);
  if (rows.length === 0) return html`<span class="muted small">${entry.before == null && entry.after == null ? 'no values' : 'no field changed'}</span>`;
  return html`<table class="audit-change"><tbody>${rows.map((r) => html`<tr data-path="${r.path}">
    <td class="mono path">${r.path}</td>
    <td class="mono was">${r.was ?? ''}</td>
    <td class="mono now">${r.now ?? ''}</td></tr>`)}</tbody></table>`;
}

function localInput(value) {
  return value ? new Date(value).toISOString() : '';
}

export async function show(ctx) {
  ctx.setTitle('Audit trail');
  const state = { skip: 0, who: ctx.query.get('who') ?? '', kind: ctx.query.get('kind') ?? '', from: '', to: '' };
  mount(ctx.view, html`
    <p class="lead">Every change an administrator made on this server: who (the admin key's name), when, what, and the values before and after. Kept in the server's store; agents never write to it.</p>
    <section class="card card-flush" id="audit">
      <div class="toolbar audit-filters">
        <div class="field"><label class="label" for="audit-who">Who</label><input id="audit-who" placeholder="key name" value="${state.who}" spellcheck="false"></div>
        <div class="field"><label class="label" for="audit-kind">Kind</label><select id="audit-kind"><option value="">All kinds</option>
          ${kinds.map((k) => html`<option value="${k}" ${k === state.kind ? 'selected' : ''}>${k}</option>`)}</select></div>
        <div class="field"><label class="label" for="audit-from">From</label><input id="audit-from" type="datetime-local" step="1"></div>
        <div class="field"><label class="label" for="audit-to">To</label><input id="audit-to" type="datetime-local" step="1"></div>
        <span class="spacer"></span>
      </div>
      <div id="audit-table"></div>
      ${pagerBar('audit', '← Newer', 'Older →')}
    </section>`);

  let total = 0;
  const showPage = pager('audit', state, pageSize, load, 'changes', { blankWhenEmpty: true });
  async function load() {
    const page = await api.audit({ skip: state.skip, take: pageSize, who: state.who, kind: state.kind, from: localInput(state.from), to: localInput(state.to) });
    if (!ctx.isCurrent()) return;
    total = page.total;
    mount($('#audit-table'), page.items.length === 0
      ? emptyState('No changes recorded', state.who || state.kind || state.from || state.to ? 'Nothing matches these filters.' : 'Changes made through the admin API or this console appear here.')
      : html`<table class="table"><thead><tr><th>When</th><th>Who</th><th>Kind</th><th>What</th><th>Change (before → after)</th></tr></thead>
        <tbody>${page.items.map((e) => html`<tr data-seq="${e.seq}" data-kind="${e.kind}" data-who="${e.who}">
          <td class="small">${fmtTime(e.at)}</td>
          <td class="strong">${e.who}<div class="audit-role"><span class="pill role-${e.role}">${e.role}</span></div></td>
          <td><span class="badge badge-blue">${e.kind}</span></td>
          <td><div class="mono small">${e.operation}</div>${e.target ? html`<div class="mono tiny muted">${e.target}</div>` : ''}<div class="tiny muted">${e.status}</div></td>
          <td>${changeTable(e)}</td></tr>`)}</tbody></table>`);
    showPage(page.items.length, total);
  }

  const reload = () => { state.skip = 0; load(); };
  $('#audit-who').addEventListener('input', debounce((e) => { state.who = e.target.value.trim(); reload(); }, 250));
  $('#audit-kind').addEventListener('change', (e) => { state.kind = e.target.value; reload(); });
  $('#audit-from').addEventListener('change', (e) => { state.from = e.target.value; reload(); });
  $('#audit-to').addEventListener('change', (e) => { state.to = e.target.value; reload(); });
  await load();
}
