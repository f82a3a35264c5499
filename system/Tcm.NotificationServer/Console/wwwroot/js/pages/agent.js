// One agent: its Network Status as the agent's own panel shows it, its details, and "Terminate persistent connection".
import { api, ApiError } from '../api.js';
import { html, $, mount, toast, fmtBytes, fmtTime, fmtAgo, modeBadge, transportBadge, errorBox } from '../ui.js';

const lower = (v) => String(v ?? '').toLowerCase();

function tls(protocol, cipher) {
  if (!protocol && !cipher) return html`<div class="muted small">No TLS details reported</div>`;
  return html`<div class="small">Cryptographic protocol: <strong>${protocol ?? '—'}</strong></div>
    <div class="small">Cipher suite: <span class="mono">${cipher ?? '—'}</span></div>`;
}

// The panel's "View certificate": what the agent saw of a server's certificate (or one it rejected, and why).
function certificate(cert, title) {
  if (!cert) return '';
  return html`<details class="small cert"><summary>${title}</summary>
    <dl class="details">
      <dt>Subject</dt><dd class="mono">${cert.subject}</dd>
      <dt>Issuer</dt><dd class="mono">${cert.issuer}</dd>
      <dt>Valid</dt><dd>${fmtTime(cert.notBefore)} – ${fmtTime(cert.notAfter)}</dd>
      <dt>Thumbprint</dt><dd class="mono">${cert.thumbprint}</dd>
      ${cert.validationError ? html`<dt>Rejected</dt><dd>${cert.validationError}</dd>` : ''}
    </dl></details>`;
}

const kebab = (v) => String(v ?? '').replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

// What the last attempt tried (address, route, proxy) and what answered.
function lastAttempt(attempt) {
  if (!attempt) return '';
  const connected = kebab(attempt.outcome) === 'connected';
  return html`<dt>Last attempt:</dt>
    <dd class="small" id="last-attempt">
      <div><span class="mono">${attempt.address}</span>${attempt.target ? html` for <span class="mono">${attempt.target}</span>` : ''}
        · ${attempt.route} · ${attempt.proxy ? html`via proxy <span class="mono">${attempt.proxy}</span>` : 'no proxy'} · ${fmtTime(attempt.at)}</div>
      <div><strong class="${connected ? '' : 'text-danger'}">${kebab(attempt.outcome)}</strong>${attempt.detail ? html`: ${attempt.detail}` : ''}</div>
      ${attempt.backends ? html`<div>The gateway relays to: <span class="mono">${attempt.backends.join(', ')}</span></div>` : ''}
      ${certificate(attempt.certificate, 'View the rejected certificate')}
    </dd>`;
}

function networkPanel(status, agentInfo, { showTerminate, server = 'Notification Server' }) {
  const reported = lower(status.transport) === 'persistent';
  // why: after the connection ends, the status on file is the agent's last report, made while it was still persistent.
  const persistent = showTerminate ? agentInfo.connected : reported;
  const stale = showTerminate && reported && !agentInfo.connected;
  const cem = lower(status.mode) === 'cem';
  return html`<dl class="netstatus">
    <dt>${server}:</dt>
    <dd>
      <div><strong id="ns-availability">${status.availability}</strong>${status.serverAddress ? html` · <span class="mono">${status.serverAddress}</span>` : ''}</div>
      ${cem ? html`<div class="small muted">Reached through the internet gateway: both legs under CEM Mode</div>` : tls(status.tlsProtocol, status.cipherSuite)}
      ${certificate(status.serverCertificate, 'View Notification Server certificate')}
    </dd>
    <dt>CEM Mode:</dt>
    <dd>
      <div id="cem-state">${status.cemState}</div>
      ${cem ? html`<div class="leg" data-leg="gateway"><div class="small muted">Agent to gateway:</div>${tls(status.gatewayTlsProtocol, status.gatewayCipherSuite)}</div>` : ''}
      ${cem ? certificate(status.gatewayCertificate, 'View internet gateway certificate') : ''}
      ${cem ? html`<div class="leg" data-leg="backend" id="backend-tls"><div class="small muted">Gateway to server (as the gateway reports it):</div>${status.backendTlsProtocol
        ? tls(status.backendTlsProtocol, status.backendCipherSuite) : html`<div class="muted small">The gateway has not reported this leg</div>`}</div>` : ''}
    </dd>
    <dt>Server Connection:</dt>
    <dd>
      <div><strong id="server-connection">${persistent ? 'Persistent' : 'HTTP'}</strong>
        <span class="small muted">Sent: ${fmtBytes(status.bytesSent)} · Received: ${fmtBytes(status.bytesReceived)}</span></div>
      ${stale ? html`<div class="small muted">The server holds no persistent connection now; the agent works over HTTP (its last report still says persistent).</div>`
        : status.transportDetail && lower(status.transportDetail) !== lower(status.transport) ? html`<div class="small muted">${status.transportDetail}</div>` : ''}
      ${status.connectedSince && persistent ? html`<div class="small muted">Connected since ${fmtTime(status.connectedSince)}</div>` : ''}
      ${showTerminate ? html`<button class="btn btn-small btn-danger-ghost" data-needs="operator" id="terminate" type="button" ${agentInfo.connected ? '' : 'disabled'}>Terminate persistent connection</button>` : ''}
    </dd>
    ${status.peerDownloading ? html`<dt>Peer Downloading:</dt><dd id="peer-downloading">${status.peerDownloading}</dd>` : ''}
    ${status.networkUsage ? html`<dt>Network Usage:</dt><dd id="network-usage">${status.networkUsage}</dd>` : ''}
    ${status.routeReason ? html`<dt>Route:</dt><dd class="small">${status.routeReason}</dd>` : ''}
    ${lastAttempt(status.lastAttempt)}
    ${status.proxy || status.proxyProblem ? html`<dt>Proxy:</dt><dd class="small" id="proxy">${status.proxy ? `via proxy ${status.proxy}` : 'direct'}${status.proxyProblem ? html` <span class="muted">(${status.proxyProblem})</span>` : ''}</dd>` : ''}
  </dl>`;
}

export async function show(ctx) {
  const id = ctx.params[0];
  ctx.setTitle('Agent');
  let info = await api.agent(id);
  ctx.setTitle(info.computerName);
  const profileNames = new Map((await api.profiles().catch(() => [])).map((p) => [p.id, p.name]));

  async function render() {
    let status = null;
    let statusError = null;
    try {
      status = await api.networkStatus(id);
    } catch (e) {
      statusError = e;
    }
    if (!ctx.isCurrent()) return;
    const attrs = Object.entries(info.attributes ?? {});
    mount(ctx.view, html`
      <a class="back" href="#/fleet">← Fleet</a>
      <div class="agent-head">
        <div>
          <h2>${info.computerName}</h2>
          <div class="muted mono small">${info.id}</div>
        </div>
        <div class="agent-badges">${modeBadge(info.mode)} ${transportBadge(info.transport, info.connected)}</div>
        <span class="spacer"></span>
        <button class="btn" id="refresh-status" type="button">Refresh</button>
        <a class="btn" href="#/actions?agent=${encodeURIComponent(info.id)}&name=${encodeURIComponent(info.computerName)}">Run action…</a>
      </div>
      <div class="grid-main">
        <section class="card" id="network-status">
          <div class="card-head"><h2>Network Status</h2><span class="muted small">${statusError ? '' : 'asked live over the connection when there is one'}</span></div>
          ${status ? networkPanel(status, info, { showTerminate: true })
            : statusError instanceof ApiError && statusError.status === 404
              ? html`<p class="muted">The agent has not reported its Network Status yet.</p>`
              : errorBox(statusError)}
          ${status?.taskServer ? html`<h3 class="sub">Task Server connection</h3>${networkPanel(status.taskServer, info, { showTerminate: false, server: 'Task Server' })}`
            : status ? html`<h3 class="sub">Task Server connection</h3><p class="muted small">No Task Server connection reported.</p>` : ''}
        </section>
        <section class="card">
          <div class="card-head"><h2>Details</h2></div>
          <dl class="details">
            <dt>Domain</dt><dd>${info.domain ?? '—'}</dd>
            <dt>Operating system</dt><dd>${info.osName ?? '—'}</dd>
            <dt>Communication profile</dt><dd>${info.profileId ? html`<a href="#/profiles/${encodeURIComponent(info.profileId)}">${profileNames.get(info.profileId) ?? info.profileId}</a>` : html`<span class="muted">none</span>`}</dd>
            <dt>Registered</dt><dd>${fmtTime(info.registeredAt)}</dd>
            <dt>Last contact</dt><dd>${fmtAgo(info.lastContact)}</dd>
            <dt>Route</dt><dd class="mono">${info.route ?? '—'}</dd>
            <dt>Node</dt><dd class="mono">${info.node ?? '—'}</dd>
            <dt>Last acknowledged push</dt><dd>#${info.lastAckedSeq}</dd>
            <dt>Pending pushes</dt><dd>${info.pendingPushes}</dd>
            <dt>Sent / received (server)</dt><dd>${fmtBytes(info.bytesSent)} / ${fmtBytes(info.bytesReceived)}</dd>
            ${attrs.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}
          </dl>
        </section>
      </div>`);
    $('#refresh-status').addEventListener('click', refresh);
    $('#terminate')?.addEventListener('click', terminate);
  }

  async function refresh() {
    info = await api.agent(id);
    await render();
  }

  async function terminate() {
    const button = $('#terminate');
    button.disabled = true;
    try {
      await api.terminate(id);
      toast(`Persistent connection of ${info.computerName} terminated; it works over HTTP and reconnects in 60 s.`, 'success');
      const deadline = Date.now() + 5000;
      do {
        info = await api.agent(id);
      } while (info.connected && Date.now() < deadline && await new Promise((r) => setTimeout(r, 150, true)));
      await render();
    } catch (e) {
      toast(e.message, 'error');
      button.disabled = false;
    }
  }

  await render();
}
