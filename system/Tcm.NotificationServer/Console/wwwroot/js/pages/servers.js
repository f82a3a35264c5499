// Task Servers and CEM gateways: their counters, from the admin API when this server has those endpoints.
import { api, ApiError } from '../api.js';
import { html, mount, $, fmtNumber, fmtAgo, fmtTime, emptyState, errorBox } from '../ui.js';
import { showGateways } from './gateways.js';
import { showSelection } from './task-server-selection.js';

async function optional(call) {
  try {
    return { items: await call() };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return { missing: true };
    return { error: e };
  }
}

const pct = (a, b) => (b > 0 ? Math.min(100, Math.round((a / b) * 1000) / 10) : 0);

export async function show(ctx) {
  ctx.setTitle('Task Servers & gateways');
  const [taskServers, siteServers] = await Promise.all([optional(api.taskServers), optional(api.siteServers)]);
  const tsSites = (siteServers.items ?? []).filter((s) => String(s.kind).toLowerCase() === 'task-server');

  mount(ctx.view, html`
    <p class="lead">The site servers agents reach besides this Notification Server: Task Servers (the Client Task Agent's persistent connection) and CEM Internet Gateways (agents on the internet).</p>
    <section class="card card-flush" id="task-servers">
      <div class="card-head pad"><h2>Task Servers</h2></div>
      ${taskServers.missing ? emptyState('Task Servers are not available on this server', 'This Notification Server has no Task Server support yet.')
        : taskServers.error ? errorBox(taskServers.error)
        : taskServers.items.length === 0 ? emptyState('No Task Servers', 'Allow one to register (POST /tcm/admin/site-servers, kind task-server) and start it with its token.')
        : html`<table class="table">
          <thead><tr><th>Name</th><th>Status</th><th>Address</th><th>Site</th><th>Registered agents</th><th class="num">Persistent now</th><th>Last contact</th></tr></thead>
          <tbody>${taskServers.items.map((t) => html`<tr>
            <td class="strong">${t.name}<div class="mono tiny muted">${t.id}</div></td>
            <td>${t.online ? html`<span class="badge badge-green"><span class="badge-dot"></span>Online</span>` : html`<span class="badge badge-red">Offline</span>`}</td>
            <td class="mono small">${t.address ?? '—'}</td>
            <td>${t.site ?? html`<span class="muted">any</span>`}</td>
            <td><div class="capacity"><span>${fmtNumber(t.registeredAgents)} / ${fmtNumber(t.maxAgents)}</span>
              <div class="meter"><span class="meter-fill ${pct(t.registeredAgents, t.maxAgents) > 90 ? 'meter-red' : ''}" data-width="${pct(t.registeredAgents, t.maxAgents)}"></span></div></div></td>
            <td class="num">${fmtNumber(t.connectedAgents)}</td>
            <td class="small">${fmtAgo(t.lastContact)}</td>
          </tr>`)}</tbody></table>`}
    </section>
    ${taskServers.missing ? '' : html`<section class="card card-flush" id="ts-selection">
      <div class="card-head pad"><h2>Task Server selection</h2><span class="muted small">how each agent's Client Task Agent chooses its Task Server</span></div>
      <div id="ts-selection-editor"></div>
    </section>`}
    <section class="card card-flush" id="gateways">
      <div class="card-head pad"><h2>CEM Internet Gateways</h2><span class="muted small">counters and held certificates as each gateway reports them</span></div>
      <div id="gateway-list"></div>
    </section>
    ${tsSites.length ? html`<section class="card card-flush"><div class="card-head pad"><h2>Task Server registrations</h2></div>${siteTable(tsSites)}</section>` : ''}`);
  if (!taskServers.missing) await showSelection($('#ts-selection-editor', ctx.view), taskServers.items ?? []);
  return showGateways($('#gateway-list', ctx.view));
}

function siteTable(items) {
  return html`<table class="table">
    <thead><tr><th>Name</th><th>Registration</th><th>Address</th><th>Host names</th><th>Site</th><th>Registered</th><th>Certificate</th></tr></thead>
    <tbody>${items.map((s) => html`<tr>
      <td class="strong">${s.name}<div class="mono tiny muted">${s.id}</div></td>
      <td>${s.registered ? html`<span class="badge badge-green">Registered</span>` : html`<span class="badge badge-amber">Waiting for its token</span>`}</td>
      <td class="mono small">${s.address ?? '—'}</td>
      <td class="small">${(s.hostNames ?? []).join(', ') || '—'}</td>
      <td>${s.site ?? '—'}</td>
      <td class="small">${fmtTime(s.registeredAt)}</td>
      <td class="mono tiny">${s.certificateThumbprint ? `${s.certificateThumbprint.slice(0, 16)}…` : '—'}</td>
    </tr>`)}</tbody></table>`;
}
