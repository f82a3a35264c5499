// Targeted agent settings: VPN adapters detection, the two "Prefer CEM" settings, intervals, targets.
import { api } from '../api.js';
import { html, $, mount, toast, yesNo, describeTargets, lines, emptyState } from '../ui.js';
import { targetsEditor, wireTargets, readTargets } from '../targets.js';

export async function show(ctx) {
  return ctx.mode === 'edit' ? edit(ctx, ctx.params[0]) : list(ctx);
}

const minutes = (seconds) => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

async function list(ctx) {
  ctx.setTitle('Targeted agent settings');
  const policies = await api.agentSettingsList();
  mount(ctx.view, html`
    <div class="page-head">
      <p class="lead">Agent settings policies. An agent gets the first policy, by priority then name, whose targets include it; none means the defaults.</p>
      <a class="btn btn-primary" href="#/agent-settings/new" data-needs="administrator" id="new-agent-settings">+ New policy</a>
    </div>
    <section class="card card-flush">
      ${policies.length === 0 ? emptyState('No targeted agent settings', 'Every agent uses the defaults: no VPN adapters listed, CEM not preferred, policy refresh and task poll every 60 minutes, keep-alive 30 s.', html`<a class="btn btn-primary" href="#/agent-settings/new">Create a policy</a>`) : html`
      <table class="table" id="agent-settings-table">
        <thead><tr><th>Name</th><th class="num">Priority</th><th>VPN adapters detection</th><th>Prefer CEM</th><th>Prefer CEM if VPN</th><th>Intervals</th><th>Targets</th></tr></thead>
        <tbody>${policies.map((p) => html`
          <tr>
            <td><a class="strong" href="#/agent-settings/${encodeURIComponent(p.id)}">${p.name}</a></td>
            <td class="num">${p.priority}</td>
            <td class="mono small">${(p.settings.vpnAdapters ?? []).length ? p.settings.vpnAdapters.join(', ') : html`<span class="muted">none</span>`}</td>
            <td>${yesNo(p.settings.preferCem, 'Yes', 'No')}</td>
            <td>${yesNo(p.settings.preferCemIfVpn, 'Yes', 'No')}</td>
            <td class="small">policy ${minutes(p.settings.policyRefreshSeconds)} · tasks ${minutes(p.settings.taskPollSeconds)} · keep-alive ${p.settings.keepAliveSeconds} s</td>
            <td>${describeTargets(p.targets)}</td>
          </tr>`)}
        </tbody>
      </table>`}
    </section>`);
}

async function edit(ctx, id) {
  const isNew = id === 'new';
  const policy = isNew
    ? { id: '', name: '', priority: 100, settings: { policyRefreshSeconds: 3600, taskPollSeconds: 3600, vpnAdapters: [], preferCem: false, preferCemIfVpn: false, keepAliveSeconds: 30 }, targets: { all: true, rules: [], agents: [] } }
    : await api.agentSettings(id);
  const s = policy.settings;
  ctx.setTitle(isNew ? 'New targeted agent settings' : `Agent settings: ${policy.name}`);
  mount(ctx.view, html`
    <a class="back" href="#/agent-settings">← Targeted agent settings</a>
    <form data-needs="administrator" id="settings-form" class="form" autocomplete="off">
      <section class="card">
        <div class="card-head"><h2>General</h2></div>
        <div class="grid-2">
          <div class="field"><label class="label" for="s-name">Name</label><input id="s-name" required value="${policy.name}" maxlength="128"></div>
          <div class="field"><label class="label" for="s-priority">Priority <span class="muted">(lower first)</span></label><input id="s-priority" type="number" min="0" value="${policy.priority}"></div>
        </div>
      </section>
      <section class="card">
        <div class="card-head"><h2>Connection preference</h2></div>
        <label class="check"><input type="checkbox" id="s-prefer-cem" ${s.preferCem ? 'checked' : ''}>
          <span><strong>Prefer CEM gateway connection</strong><br><span class="muted">Always reach the server through the Internet Gateway, even when it is reachable directly.</span></span></label>
        <label class="check"><input type="checkbox" id="s-prefer-cem-vpn" ${s.preferCemIfVpn ? 'checked' : ''}>
          <span><strong>Prefer CEM gateway connection if VPN connection is established</strong><br><span class="muted">While a VPN adapter below is up, use the gateway instead of the VPN tunnel. The Notification Server and Task Server connections follow the same choice.</span></span></label>
        <div class="field">
          <label class="label" for="s-vpn">VPN adapters detection <span class="muted">(adapter names or descriptions, one per line, * and ? wildcards, case-insensitive)</span></label>
          <textarea id="s-vpn" rows="4" class="mono" spellcheck="false" placeholder="*Virtual Network Adapter*&#10;PANGP*">${(s.vpnAdapters ?? []).join('\n')}</textarea>
        </div>
      </section>
      <section class="card">
        <div class="card-head"><h2>Intervals</h2></div>
        <div class="grid-3">
          <div class="field"><label class="label" for="s-policy">Policy refresh (seconds)</label><input id="s-policy" type="number" min="1" value="${s.policyRefreshSeconds}"><span class="hint">Over HTTP, without a persistent connection</span></div>
          <div class="field"><label class="label" for="s-tasks">Task poll (seconds)</label><input id="s-tasks" type="number" min="1" value="${s.taskPollSeconds}"><span class="hint">Over HTTP, without a persistent connection</span></div>
          <div class="field"><label class="label" for="s-keepalive">Keep-alive (seconds)</label><input id="s-keepalive" type="number" min="1" value="${s.keepAliveSeconds}"><span class="hint">WebSocket ping of persistent connections</span></div>
        </div>
      </section>
      <section class="card">
        <div class="card-head"><h2>Maintenance windows</h2><span class="muted">Tasks that are not urgent wait for one</span></div>
        <div class="field">
          <label class="label" for="s-windows">Daily windows, UTC <span class="muted">(start-end as HH:mm-HH:mm, one per line; empty: always)</span></label>
          <textarea id="s-windows" rows="2" class="mono" spellcheck="false" placeholder="22:00-02:00">${(s.maintenanceWindows ?? []).map((w) => `${w.start}-${w.end}`).join('\n')}</textarea>
        </div>
      </section>
      <section class="card">
        <div class="card-head"><h2>Targets</h2><span class="muted">Computers these settings apply to</span></div>
        ${targetsEditor('s', policy.targets)}
      </section>
      <p id="form-error" class="form-error" hidden></p>
      <div class="form-actions">
        ${isNew ? '' : html`<button type="button" class="btn btn-danger-ghost" data-needs="administrator" id="delete-settings">Delete</button>`}
        <span class="spacer"></span>
        <a class="btn btn-ghost" href="#/agent-settings">Cancel</a>
        <button type="submit" class="btn btn-primary" data-needs="administrator" id="save-settings">${isNew ? 'Create policy' : 'Save changes'}</button>
      </div>
    </form>`);
  wireTargets(ctx.view, 's');

  $('#settings-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('#form-error');
    error.hidden = true;
    const body = {
      id: policy.id,
      name: $('#s-name').value.trim(),
      priority: Number($('#s-priority').value || 100),
      settings: {
        policyRefreshSeconds: Number($('#s-policy').value),
        taskPollSeconds: Number($('#s-tasks').value),
        vpnAdapters: lines($('#s-vpn').value),
        preferCem: $('#s-prefer-cem').checked,
        preferCemIfVpn: $('#s-prefer-cem-vpn').checked,
        keepAliveSeconds: Number($('#s-keepalive').value),
        maintenanceWindows: lines($('#s-windows').value).map((l) => {
          const [start, end] = l.split('-').map((x) => x.trim());
          return { start, end: end ?? '' };
        }),
      },
      targets: readTargets(ctx.view, 's'),
    };
    try {
      const saved = isNew ? await api.createAgentSettings(body) : await api.saveAgentSettings(body);
      toast(`Agent settings '${saved.name}' saved; targeted agents get them now.`, 'success');
      location.hash = '#/agent-settings';
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  $('#delete-settings')?.addEventListener('click', async () => {
    if (!confirm(`Delete '${policy.name}'?`)) return;
    try {
      await api.deleteAgentSettings(policy.id);
      location.hash = '#/agent-settings';
    } catch (e) {
      toast(e.message, 'error');
    }
  });
}
