// Actions: push a task, push policy, on-demand inventory; per-agent status and results as they arrive, with timing.
import { api } from '../api.js';
import { html, $, $$, mount, toast, fmtNumber, fmtDuration, fmtTime, stateBadge, describeTargets, lines, emptyState, errorBox } from '../ui.js';
import { targetsEditor, wireTargets, readTargets } from '../targets.js';
import { wavesFields, wireWaves, readWaves, renderWaves, inWaveOrder } from '../waves.js';

const recentKey = 'tcm-recent-actions';
const maxRows = 500;
const finalStates = new Set(['succeeded', 'failed', 'timed-out', 'expired', 'cancelled', 'not-sent']);
const commandDefaults = { echo: 'text=Hello from the TCM console', sleep: 'seconds=2', inventory: '' };

const recent = () => JSON.parse(sessionStorage.getItem(recentKey) ?? '[]');
function remember(entry) {
  const list = [entry, ...recent().filter((r) => r.id !== entry.id)].slice(0, 15);
  sessionStorage.setItem(recentKey, JSON.stringify(list));
}

function initialTargets(query) {
  if (query.get('agent')) return { all: false, rules: [], agents: [query.get('name') || query.get('agent')] };
  if (query.get('selection')) {
    const names = JSON.parse(sessionStorage.getItem('tcm-selection') ?? '[]');
    if (names.length) return { all: false, rules: [], agents: names };
  }
  return { all: false, rules: [{ attribute: 'group', pattern: '' }], agents: [] };
}

export async function show(ctx) {
  ctx.setTitle('Actions');
  let kind = 'task';
  mount(ctx.view, html`
    <p class="lead">Run an action on a selection now. Agents with a persistent connection get it at once; the others at their next check-in.</p>
    <div class="grid-main">
      <section class="card" data-needs="operator">
        <div class="tabs" role="tablist">
          <button type="button" role="tab" class="tab active" data-kind="task" id="tab-task">Push task</button>
          <button type="button" role="tab" class="tab" data-kind="policy" id="tab-policy">Push policy</button>
          <button type="button" role="tab" class="tab" data-kind="inventory" id="tab-inventory">On-demand inventory</button>
        </div>
        <form id="action-form" autocomplete="off">
          <div class="kind-task">
            <div class="grid-2">
              <div class="field"><label class="label" for="a-command">Command</label>
                <select id="a-command"><option value="echo">echo: answer with a text</option><option value="sleep">sleep: wait some seconds</option><option value="inventory">inventory: basic inventory as output</option></select></div>
              <div class="field"><label class="label" for="a-name">Name <span class="muted">(optional)</span></label><input id="a-name" placeholder="e.g. Check-in test"></div>
            </div>
            <div class="grid-2">
              <div class="field"><label class="label" for="a-params">Parameters <span class="muted">(name=value, one per line)</span></label><textarea id="a-params" rows="2" class="mono" spellcheck="false">${commandDefaults.echo}</textarea></div>
              <div class="field"><label class="label" for="a-timeout">Timeout (seconds)</label><input id="a-timeout" type="number" min="1" value="300"></div>
            </div>
            <div class="grid-2">
              <div class="field"><label class="label" for="a-not-after">Not after <span class="muted">(optional: agents that get it later do not run it)</span></label><input id="a-not-after" type="datetime-local"></div>
              <label class="check"><input type="checkbox" id="a-urgent"><span><strong>Urgent</strong><br><span class="muted">Run at once, outside the agents' maintenance windows.</span></span></label>
            </div>
          </div>
          <div class="kind-policy" hidden><p class="muted">Sends each targeted agent its current policy now (communication profile, agent settings, Task Servers), instead of waiting for its next policy refresh.</p></div>
          <div class="kind-inventory" hidden>
            <div class="field"><label class="label" for="a-classes">Inventory classes <span class="muted">(one per line; empty: all)</span></label><textarea id="a-classes" rows="2" class="mono" spellcheck="false"></textarea></div>
          </div>
          <div class="field"><span class="label">Targets</span>${targetsEditor('a', initialTargets(ctx.query))}</div>
          ${wavesFields()}
          <p id="form-error" class="form-error" hidden></p>
          <div class="form-actions"><span class="spacer"></span><button type="submit" class="btn btn-primary" id="run-action">Run now</button></div>
        </form>
      </section>
      <section class="card">
        <div class="card-head"><h2>Recent actions</h2><span class="muted small">this browser session</span></div>
        <div id="recent"></div>
      </section>
    </div>
    <section class="card" id="action-status"></section>`);
  wireTargets(ctx.view, 'a');
  wireWaves(ctx.view);
  renderRecent();

  for (const tab of $$('.tab')) {
    tab.addEventListener('click', () => {
      kind = tab.dataset.kind;
      for (const t of $$('.tab')) t.classList.toggle('active', t === tab);
      for (const k of ['task', 'policy', 'inventory']) $(`.kind-${k}`).hidden = k !== kind;
    });
  }
  $('#a-command').addEventListener('change', (e) => { $('#a-params').value = commandDefaults[e.target.value] ?? ''; });

  let stopWatching = null;
  // Results as they arrive: the action's event stream sends its state once (snapshot), then each target's change as it
  // commits; EventSource reconnects by itself with the last event id, and the server replays what was missed.
  function watch(actionId) {
    if (stopWatching) stopWatching();
    const box = $('#action-status');
    box.hidden = false;
    const source = new EventSource(`/tcm/admin/actions/${encodeURIComponent(actionId)}/events`, { withCredentials: true });
    stopWatching = () => source.close();
    let status = null;
    let rowOf = new Map();
    let scheduled = false;
    const render = () => {
      scheduled = false;
      if (!ctx.isCurrent()) { source.close(); return; }
      const done = isDone(status);
      mount(box, renderStatus(status, done, !done && source.readyState === EventSource.OPEN));
      if (done) source.close();
    };
    // why: a fan-out sends thousands of changes a second; the table is drawn at most every 100 ms, whatever arrived meanwhile.
    const schedule = () => { if (!scheduled) { scheduled = true; setTimeout(render, 100); } };
    // why: a wave's start, its counts and the brake's verdict belong to the action, not to a target's event: while the
    // targets of an action in waves change, its waves are read again, at most once a second (an action without waves never is).
    let refreshing = false;
    const refreshWaves = () => {
      if (!status?.waves || refreshing) return;
      refreshing = true;
      setTimeout(async () => {
        try {
          const fresh = await api.action(actionId);
          if (status && ctx.isCurrent()) { status.waves = fresh.waves; schedule(); }
        } catch { /* the next change tries again */ } finally { refreshing = false; }
      }, 1000);
    };
    source.addEventListener('snapshot', (e) => {
      status = JSON.parse(e.data);
      rowOf = new Map(status.targets.map((t, i) => [t.agentId, i]));
      schedule();
    });
    source.addEventListener('target', (e) => {
      const change = JSON.parse(e.data);
      const i = rowOf.get(change.agentId);
      if (!status || i === undefined) return;
      const before = status.targets[i];
      status.counts[before.state] = (status.counts[before.state] ?? 1) - 1;
      status.counts[change.state] = (status.counts[change.state] ?? 0) + 1;
      const { actionId: _, outputTruncated, ...row } = change;
      status.targets[i] = { ...before, ...row, computerName: before.computerName || change.computerName };
      schedule();
      refreshWaves();
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED && ctx.isCurrent()) {
        mount(box, errorBox(new Error('The live results of this action could not be read; open it again.')));
      } else if (status) {
        schedule();
      }
    };
  }

  function renderRecent() {
    const items = recent();
    mount($('#recent'), items.length === 0
      ? html`<p class="muted small">Actions you run appear here.</p>`
      : html`<ul class="recent">${items.map((r) => html`<li><a href="#/actions/${encodeURIComponent(r.id)}" class="recent-item">
          <span class="badge badge-gray">${r.kind}</span> <strong>${r.label}</strong>
          <span class="muted small">${r.targets} · ${fmtNumber(r.targetCount)} agents · ${fmtTime(r.createdAt)}</span></a></li>`)}</ul>`);
  }

  $('#action-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('#form-error');
    error.hidden = true;
    const targets = readTargets(ctx.view, 'a');
    if (!targets.all && targets.rules.length === 0 && targets.agents.length === 0) {
      error.textContent = 'Choose the targets: a rule, some computers, or all computers.';
      error.hidden = false;
      return;
    }
    try {
      let created;
      let label;
      if (kind === 'task') {
        const parameters = Object.fromEntries(lines($('#a-params').value).map((l) => {
          const i = l.indexOf('=');
          return i < 0 ? [l, ''] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
        }));
        const command = $('#a-command').value;
        label = $('#a-name').value.trim() || command;
        const notAfter = $('#a-not-after').value;
        created = await api.pushTask({ command, name: $('#a-name').value.trim() || null, parameters, timeoutSeconds: Number($('#a-timeout').value || 300), targets,
          notAfter: notAfter ? new Date(notAfter).toISOString() : null, urgent: $('#a-urgent').checked, waves: readWaves(ctx.view) });
      } else if (kind === 'policy') {
        label = 'Push policy';
        created = await api.pushPolicy({ targets, waves: readWaves(ctx.view) });
      } else {
        label = 'On-demand inventory';
        const classes = lines($('#a-classes').value);
        created = await api.inventoryNow({ classes: classes.length ? classes : null, targets, waves: readWaves(ctx.view) });
      }
      remember({ id: created.actionId, kind: created.kind, label, targets: describeTargets(targets), targetCount: created.targetCount, createdAt: new Date().toISOString() });
      renderRecent();
      toast(`${label}: ${created.targetCount} agents targeted, ${created.sentOverChannel} reached over their persistent connection at once.`, 'success');
      if (created.targetCount === 0) {
        mount($('#action-status'), emptyState('No agent matched these targets', 'Check the rules or the computer names.'));
        return;
      }
      watch(created.actionId);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });

  $('#action-status').addEventListener('click', async (event) => {
    const button = event.target.closest('#cancel-action');
    if (!button || !confirm('Cancel this action? Agents that have not started it will not run it; agents running it stop.')) return;
    try {
      const done = await api.cancelAction(button.dataset.action);
      toast(`Cancelled: ${done.cancelled} not started, ${done.cancelsSent} agents told to stop, ${done.running} were running.`, 'success');
    } catch (e) {
      toast(e.message, 'error');
    }
  });

  const deepLink = ctx.params[0];
  if (deepLink) watch(deepLink); else $('#action-status').hidden = true;
  return () => stopWatching?.();
}

function isDone(status) {
  const target = status.kind === 'policy' ? (s) => s !== 'pending' : (s) => finalStates.has(s);
  return status.targets.every((t) => target(String(t.state).toLowerCase()));
}

function renderStatus(status, done, live) {
  const created = new Date(status.createdAt).getTime();
  const since = (iso) => (iso ? new Date(iso).getTime() - created : null);
  const total = status.targets.length;
  const finished = status.targets.filter((t) => (status.kind === 'policy' ? t.state !== 'pending' : finalStates.has(String(t.state)))).length;
  const completions = status.targets.filter((t) => t.state !== 'not-sent').map((t) => since(t.completedAt ?? (status.kind === 'policy' ? t.deliveredAt : null))).filter((x) => x !== null).sort((a, b) => a - b);
  const median = completions.length ? completions[Math.floor((completions.length - 1) / 2)] : null;
  const slowest = completions.length ? completions[completions.length - 1] : null;
  const shown = inWaveOrder(status).slice(0, maxRows);
  return html`
    <div class="card-head">
      <h2>${status.kind === 'task' ? 'Task' : status.kind === 'policy' ? 'Policy push' : 'On-demand inventory'} <span class="mono small muted">${status.actionId}</span></h2>
      <span id="action-progress" class="${done ? 'badge badge-green' : 'badge badge-cyan'}">${done ? 'Complete' : live ? 'In progress · live' : 'In progress'}</span>
      ${done || status.kind === 'policy' || status.kind === 'inventory' ? '' : html`<button type="button" class="btn btn-danger-ghost" data-needs="operator" id="cancel-action" data-action="${status.actionId}">Cancel action</button>`}
    </div>
    <div class="action-summary">
      <div class="progress"><span class="progress-fill" data-width="${total ? (finished / total) * 100 : 0}"></span></div>
      <div class="counts">${Object.entries(status.counts).filter(([, n]) => n > 0).map(([state, n]) => html`<span class="count">${stateBadge(state)} <strong data-count="${state}">${fmtNumber(n)}</strong></span>`)}</div>
      <div class="timing small"><span>Started ${fmtTime(status.createdAt)}</span>
        <span>Median ${fmtDuration(median)}</span><span>Slowest ${fmtDuration(slowest)}</span>
        <span>${fmtNumber(finished)} of ${fmtNumber(total)} done</span></div>
    </div>
    ${renderWaves(status)}
    <table class="table" id="action-targets">
      <thead><tr><th>Computer</th>${status.waves ? html`<th class="num">Wave</th>` : ''}<th>State</th><th>Delivered via</th><th class="num">Delivered after</th><th class="num">Completed after</th><th class="num">Exit code</th><th>Output</th><th class="num">Results</th></tr></thead>
      <tbody>${shown.map((t) => html`<tr data-agent="${t.agentId}">
        <td><a href="#/agents/${encodeURIComponent(t.agentId)}">${t.computerName || t.agentId}</a></td>
        ${status.waves ? html`<td class="num" data-target-wave="${t.wave}">${t.wave}</td>` : ''}
        <td>${stateBadge(t.state)}</td>
        <td>${t.deliveredVia ? html`<span class="badge ${t.deliveredVia === 'persistent' ? 'badge-green' : 'badge-amber'}">${t.deliveredVia}</span>` : html`<span class="muted">—</span>`}</td>
        <td class="num small">${fmtDuration(since(t.deliveredAt))}</td>
        <td class="num small">${fmtDuration(since(t.completedAt))}</td>
        <td class="num">${t.exitCode ?? '—'}</td>
        <td class="output mono small" title="${t.output ?? ''}">${t.output ?? ''}</td>
        <td class="num ${t.resultCount > 1 ? 'warn' : ''}">${t.resultCount}</td>
      </tr>`)}</tbody>
    </table>
    ${total > maxRows ? html`<p class="muted small pad">Showing the first ${maxRows} of ${fmtNumber(total)} agents.</p>` : ''}`;
}
