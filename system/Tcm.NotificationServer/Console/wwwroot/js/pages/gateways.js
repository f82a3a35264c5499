// CEM gateways on the Task Servers and gateways page: each gateway's latest report (counters, backends, the certificates it
// holds) and the administrator's approve and block, which the gateway takes over its long poll within seconds.
import { api } from '../api.js';
import { html, mount, fmtNumber, fmtBytes, fmtAgo, fmtTime, emptyState, errorBox, toast } from '../ui.js';

const refreshMs = 3000;

/** Fills `host` with the gateways and keeps it current; returns the cleanup for the page. */
export function showGateways(host) {
  let stopped = false;
  let timer = null;

  async function load() {
    let gateways;
    try {
      gateways = await api.gateways();
    } catch (e) {
      mount(host, errorBox(e));
      return;
    }
    if (stopped) return;
    mount(host, gateways.length === 0
      ? emptyState('No gateways', 'Allow a gateway to register (POST /tcm/admin/site-servers, kind gateway) and start it with its token; it then reports here.')
      : html`${gateways.map(gatewayCard)}`);
  }

  async function decide(button) {
    const { gateway, thumbprint, decide: action } = button.dataset;
    for (const b of host.querySelectorAll(`button[data-thumbprint="${thumbprint}"]`)) b.disabled = true;
    try {
      await api.decideCertificate(gateway, thumbprint, action);
      toast(`${action === 'approve' ? 'Approval' : 'Block'} sent to gateway ${gateway}`, 'success');
    } catch (e) {
      toast(e.message, 'error');
    }
    await load();
  }

  host.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-decide]');
    if (button) decide(button);
  });

  const tick = async () => {
    await load();
    if (!stopped) timer = setTimeout(tick, refreshMs);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

function reportBadge(g) {
  if (!g.report) return html`<span class="badge badge-gray" data-report="none">No report yet</span>`;
  if (g.stale) return html`<span class="badge badge-amber" data-report="stale">Stale: reported ${fmtAgo(g.reportedAt)}</span>`;
  return html`<span class="badge badge-green" data-report="current"><span class="badge-dot"></span>Reported ${fmtAgo(g.reportedAt)}</span>`;
}

function gatewayCard(g) {
  const r = g.report;
  return html`<div class="gateway" data-gateway="${g.name}">
    <div class="card-head pad"><h3>${g.name}</h3>
      ${g.registered ? html`<span class="badge badge-blue">Registered</span>` : html`<span class="badge badge-amber">Waiting for its token</span>`}
      ${reportBadge(g)}
      ${g.polling ? html`<span class="badge badge-green">Taking decisions</span>` : ''}
      <span class="mono small muted">${g.address ?? ''}</span></div>
    ${r ? html`${counters(r)}${backends(r.counters.backends ?? [])}${held(g)}`
      : html`<p class="pad muted">This gateway has not reported to this server yet: a gateway older than these reports, or one that cannot reach this server. Its own status page still works.</p>`}
  </div>`;
}

function counters(r) {
  const c = r.counters;
  const rows = [
    ['agents', 'Agents connected', fmtNumber(c.agentsConnected)],
    ['tunnels', 'Tunnels open', fmtNumber(c.tunnelsOpen)],
    ['connects', 'Connects', `${c.connectsPerSecond.toFixed(1)}/s · ${fmtNumber(c.connectsTotal)} total`],
    ['rejections', 'Rejections', `${c.rejectionsPerSecond.toFixed(1)}/s · ${fmtNumber(c.rejectionsTotal)} total`],
    ['handshakes', 'TLS handshake failures', fmtNumber(c.handshakeFailures)],
    ['bytes', 'Bytes to backends / to agents', `${fmtBytes(c.bytesToBackends)} / ${fmtBytes(c.bytesToAgents)}`],
    ['certificates', 'Certificates held / approved / blocked', `${fmtNumber(c.certificatesHeld)} / ${fmtNumber(c.certificatesApproved)} / ${fmtNumber(c.certificatesBlocked)}`],
    ['started', 'Started', fmtTime(r.startedAt)],
  ];
  const table = (part) => html`<table class="table gateway-counters"><tbody>${part.map(([key, label, value]) => html`<tr><th>${label}</th><td class="num" data-counter="${key}">${value}</td></tr>`)}</tbody></table>`;
  return html`<div class="gateway-grid">${table(rows.slice(0, 4))}${table(rows.slice(4))}</div>`;
}

function backends(items) {
  if (!items.length) return '';
  return html`<table class="table"><thead><tr><th>Backend</th><th>Address</th><th>Kind</th><th class="num">Tunnels open</th><th class="num">Tunnels total</th><th class="num">Requests</th></tr></thead>
    <tbody>${items.map((b) => html`<tr><td class="strong">${b.name}</td><td class="mono small">${b.address}</td><td>${b.kind}</td>
      <td class="num">${fmtNumber(b.tunnelsOpen)}</td><td class="num">${fmtNumber(b.tunnelsTotal)}</td><td class="num">${fmtNumber(b.requests)}</td></tr>`)}</tbody></table>`;
}

function held(g) {
  const items = g.report.held ?? [];
  const pending = new Map((g.pendingDecisions ?? []).map((d) => [d.thumbprint, d]));
  const more = g.report.counters.certificatesHeld - items.length;
  return html`<div class="card-head pad"><h3>Held certificates</h3><span class="muted small">unknown client certificates, refused until approved</span></div>
    ${items.length === 0 ? html`<p class="pad muted" data-held="none">No certificate is held.</p>`
      : html`<table class="table held-certificates"><thead><tr><th>Subject</th><th>Issuer</th><th>Thumbprint (SHA-256)</th><th>First seen</th><th>Last seen</th><th class="num">Attempts</th><th></th></tr></thead>
      <tbody>${items.map((c) => html`<tr data-thumbprint="${c.thumbprint}">
        <td class="strong">${c.subject ?? '—'}</td><td class="small">${c.issuer ?? '—'}</td>
        <td class="mono tiny" title="${c.thumbprint}">${c.thumbprint.slice(0, 16)}…</td>
        <td class="small">${fmtTime(c.firstSeen)}</td><td class="small">${fmtAgo(c.lastSeen)}</td><td class="num">${fmtNumber(c.attempts)}</td>
        <td>${pending.has(c.thumbprint)
          ? html`<span class="badge badge-cyan" data-pending="${String(pending.get(c.thumbprint).action).toLowerCase()}">${pending.get(c.thumbprint).action} sent</span>`
          : html`<button class="btn btn-small btn-primary" data-needs="administrator" data-decide="approve" data-gateway="${g.name}" data-thumbprint="${c.thumbprint}">Approve</button>
            <button class="btn btn-small btn-danger-ghost" data-needs="administrator" data-decide="block" data-gateway="${g.name}" data-thumbprint="${c.thumbprint}">Block</button>`}</td>
      </tr>`)}</tbody></table>`}
    ${more > 0 ? html`<p class="pad muted small">and ${fmtNumber(more)} more, listed on the gateway's own page</p>` : ''}`;
}

