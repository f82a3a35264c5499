// Communication profiles: list, create, edit, build an agent install package.
import { api } from '../api.js';
import { html, $, mount, toast, yesNo, describeTargets, lines, emptyState } from '../ui.js';
import { targetsEditor, wireTargets, readTargets } from '../targets.js';

const lower = (v) => String(v ?? '').toLowerCase();

export async function show(ctx) {
  return ctx.mode === 'edit' ? edit(ctx, ctx.params[0]) : list(ctx);
}

async function list(ctx) {
  ctx.setTitle('Communication profiles');
  const profiles = await api.profiles();
  mount(ctx.view, html`
    <div class="page-head">
      <p class="lead">How targeted agents reach this server. An agent gets the first profile, by priority then name, whose targets include it.</p>
      <a class="btn btn-primary" href="#/profiles/new" data-needs="administrator" id="new-profile">+ New profile</a>
    </div>
    <section class="card card-flush">
      ${profiles.length === 0 ? emptyState('No communication profiles', 'Agents not targeted by a profile poll over HTTP.') : html`
      <table class="table" id="profiles-table">
        <thead><tr><th>Name</th><th class="num">Priority</th><th>Hosts</th><th>Protocol</th><th>Persistent connection</th><th>CEM gateway</th><th>Targets</th><th></th></tr></thead>
        <tbody>${profiles.map((p) => html`
          <tr data-id="${p.id}">
            <td><a class="strong" href="#/profiles/${encodeURIComponent(p.id)}">${p.name}</a></td>
            <td class="num">${p.priority}</td>
            <td class="mono small">${(p.serverHosts ?? []).length ? p.serverHosts.join(', ') : html`<span class="muted">this server's address</span>`}</td>
            <td>${p.useHttps ? html`<span class="badge badge-blue">HTTPS</span>` : html`<span class="badge badge-amber">HTTP</span>`}</td>
            <td>${yesNo(p.persistentConnection)}</td>
            <td>${p.cem?.enabled ? html`<span class="mono small">${p.cem.gatewayAddress}</span>` : html`<span class="muted">—</span>`}</td>
            <td>${describeTargets(p.targets)}</td>
            <td class="actions-cell"><button class="btn btn-small package-btn" data-needs="administrator" data-id="${p.id}" data-name="${p.name}" type="button">Install package</button></td>
          </tr>`)}
        </tbody>
      </table>`}
    </section>`);
  ctx.view.addEventListener('click', async (event) => {
    const button = event.target.closest('.package-btn');
    if (button) await downloadPackage(button.dataset.id, button.dataset.name);
  });
}

async function downloadPackage(id, name) {
  try {
    const pkg = await api.buildPackage(id);
    const blob = new Blob([JSON.stringify(pkg, null, 2)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `tcm-agent-package-${name.replace(/[^A-Za-z0-9_-]+/g, '-').toLowerCase()}.json`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    toast(`Install package for '${name}' built: run 'tcm agent run --package ${link.download}'.`, 'success');
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function edit(ctx, id) {
  const isNew = id === 'new';
  const profile = isNew
    ? { id: '', name: '', priority: 100, serverHosts: [], useHttps: true, persistentConnection: true, cem: null, targets: { all: false, rules: [{ attribute: 'group', pattern: '' }], agents: [] } }
    : await api.profile(id);
  ctx.setTitle(isNew ? 'New communication profile' : `Profile: ${profile.name}`);
  const cem = profile.cem ?? { gatewayAddress: '', enabled: false };
  const proxy = profile.proxy ?? { mode: 'none', bypass: [], allowDirect: false };
  const proxyMode = lower(proxy.mode ?? 'none');
  mount(ctx.view, html`
    <a class="back" href="#/profiles">← Communication profiles</a>
    <form data-needs="administrator" id="profile-form" class="form" autocomplete="off">
      <div id="profile-problems" class="callout callout-warning" hidden></div>
      <section class="card">
        <div class="card-head"><h2>Notification Server Communication Profile</h2>${isNew ? '' : html`<span class="mono muted small">${profile.id}</span>`}</div>
        <div class="grid-2">
          <div class="field"><label class="label" for="p-name">Name</label><input id="p-name" required value="${profile.name}" maxlength="128"></div>
          <div class="field"><label class="label" for="p-priority">Priority <span class="muted">(lower first)</span></label><input id="p-priority" type="number" min="0" value="${profile.priority}"></div>
        </div>
        <div class="field">
          <span class="label">Protocol</span>
          <div class="segmented">
            <label><input type="radio" name="p-proto" id="p-https" value="https" ${profile.useHttps ? 'checked' : ''}> HTTPS communication</label>
            <label><input type="radio" name="p-proto" id="p-http" value="http" ${profile.useHttps ? '' : 'checked'}> HTTP communication</label>
          </div>
        </div>
        <div class="field">
          <label class="label" for="p-hosts">Communication hosts <span class="muted">(host:port, one per line; empty means this server's own address)</span></label>
          <textarea id="p-hosts" rows="3" class="mono" spellcheck="false">${(profile.serverHosts ?? []).join('\n')}</textarea>
        </div>
      </section>

      <section class="card">
        <div class="card-head"><h2>Persistent connection</h2></div>
        <label class="check"><input type="checkbox" id="p-persistent" ${profile.persistentConnection ? 'checked' : ''}>
          <span><strong>Persistent connection is enabled</strong><br><span class="muted">Targeted agents keep a WebSocket open to the server (when the server setting "TCM communication" is on) and fall back to HTTP when it drops.</span></span></label>
      </section>

      <section class="card">
        <div class="card-head"><h2>CEM gateway</h2></div>
        <label class="check"><input type="checkbox" id="p-cem" ${cem.enabled ? 'checked' : ''}>
          <span><strong>Cloud-enabled Management</strong><br><span class="muted">Agents on the internet reach the server through this Internet Gateway.</span></span></label>
        <div class="grid-2" id="cem-fields">
          <div class="field"><label class="label" for="p-gw">Gateway address <span class="muted">(host:port)</span></label><input id="p-gw" class="mono" value="${cem.gatewayAddress ?? ''}" placeholder="gateway.example.com:443" spellcheck="false"></div>
          <div class="field"><label class="label" for="p-gwca">Gateway CA certificate <span class="muted">(PEM; empty: this server's CA)</span></label><textarea id="p-gwca" rows="2" class="mono small" spellcheck="false">${cem.gatewayCaCertificatePem ?? ''}</textarea></div>
        </div>
      </section>

      <section class="card">
        <div class="card-head"><h2>Proxy server</h2></div>
        <div class="segmented" id="proxy-mode">
          <label><input type="radio" name="p-proxy" value="none" ${proxyMode === 'none' ? 'checked' : ''}> No proxy settings are specified for this communication profile</label>
          <label><input type="radio" name="p-proxy" value="system" ${proxyMode === 'system' ? 'checked' : ''}> The computer's proxy settings</label>
          <label><input type="radio" name="p-proxy" value="explicit" ${proxyMode === 'explicit' ? 'checked' : ''}> This proxy server</label>
        </div>
        <div class="grid-2">
          <div class="field"><label class="label" for="p-proxy-address">Address <span class="muted">(http://host:port)</span></label><input id="p-proxy-address" class="mono" value="${proxy.address ?? ''}" placeholder="http://proxy.example.com:3128" spellcheck="false"></div>
          <div class="field"><label class="label" for="p-proxy-bypass">Bypass <span class="muted">(host, host:port, wildcards or &lt;local&gt;; one per line)</span></label><textarea id="p-proxy-bypass" rows="2" class="mono" spellcheck="false">${(proxy.bypass ?? []).join('\n')}</textarea></div>
          <div class="field"><label class="label" for="p-proxy-user">User name <span class="muted">(empty: the proxy asks for none)</span></label><input id="p-proxy-user" value="${proxy.userName ?? ''}" autocomplete="off"></div>
          <div class="field"><label class="label" for="p-proxy-password">Password <span class="muted">${proxy.passwordStored ? '(stored; leave empty to keep it)' : ''}</span></label><input id="p-proxy-password" type="password" autocomplete="new-password"></div>
        </div>
        <label class="check"><input type="checkbox" id="p-proxy-direct" ${proxy.allowDirect ? 'checked' : ''}>
          <span><strong>Allow a direct connection when the proxy fails</strong><br><span class="muted">When the proxy cannot be reached or refuses, agents try the server directly.</span></span></label>
      </section>

      <section class="card">
        <div class="card-head"><h2>Targets</h2><span class="muted">Limit the set of computers this communication profile is distributed to</span></div>
        ${targetsEditor('p', profile.targets)}
      </section>

      <p id="form-error" class="form-error" hidden></p>
      <div class="form-actions">
        ${isNew || profile.id === 'default' ? '' : html`<button type="button" class="btn btn-danger-ghost" data-needs="administrator" id="delete-profile">Delete</button>`}
        <span class="spacer"></span>
        ${isNew ? '' : html`<button type="button" class="btn" data-needs="administrator" id="build-package">Build install package</button>`}
        <a class="btn btn-ghost" href="#/profiles">Cancel</a>
        <button type="submit" class="btn btn-primary" data-needs="administrator" id="save-profile">${isNew ? 'Create profile' : 'Save changes'}</button>
      </div>
    </form>`);
  wireTargets(ctx.view, 'p');
  if (!isNew) api.profileChecks(profile.id).then((checks) => showProblems(checks.problems), () => {});

  $('#profile-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('#form-error');
    error.hidden = true;
    const gateway = $('#p-gw').value.trim();
    const body = {
      id: profile.id,
      name: $('#p-name').value.trim(),
      priority: Number($('#p-priority').value || 100),
      serverHosts: lines($('#p-hosts').value),
      useHttps: $('#p-https').checked,
      persistentConnection: $('#p-persistent').checked,
      cem: gateway ? { gatewayAddress: gateway, gatewayCaCertificatePem: $('#p-gwca').value.trim() || null, enabled: $('#p-cem').checked } : null,
      proxy: readProxy(),
      targets: readTargets(ctx.view, 'p'),
    };
    try {
      const saved = isNew ? await api.createProfile(body) : await api.saveProfile(body);
      const checks = await api.profileChecks(saved.id);
      if (checks.problems.length) {
        // Saved and in force, but said out loud: stay on the page so the administrator reads what does not match.
        toast(`Profile '${saved.name}' saved, with ${checks.problems.length === 1 ? 'a problem' : `${checks.problems.length} problems`}.`, 'warning');
        showProblems(checks.problems);
        if (isNew) history.replaceState(null, '', `#/profiles/${encodeURIComponent(saved.id)}`);
        return;
      }
      toast(`Profile '${saved.name}' saved; targeted agents get it now.`, 'success');
      location.hash = '#/profiles';
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  $('#delete-profile')?.addEventListener('click', async () => {
    if (!confirm(`Delete the profile '${profile.name}'? Agents it targets move to the next matching profile.`)) return;
    try {
      await api.deleteProfile(profile.id);
      toast(`Profile '${profile.name}' deleted.`, 'success');
      location.hash = '#/profiles';
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  $('#build-package')?.addEventListener('click', () => downloadPackage(profile.id, profile.name));
}

// The proxy section as the admin API takes it: a password left empty keeps the stored one.
function readProxy() {
  const mode = document.querySelector('input[name="p-proxy"]:checked')?.value ?? 'none';
  if (mode === 'none') return null;
  const user = $('#p-proxy-user').value.trim();
  return {
    mode,
    address: mode === 'explicit' ? $('#p-proxy-address').value.trim() : null,
    userName: user || null,
    password: user ? ($('#p-proxy-password').value || null) : null,
    bypass: lines($('#p-proxy-bypass').value),
    allowDirect: $('#p-proxy-direct').checked,
  };
}

// What in the profile does not match this server's gateways and address (GET /tcm/admin/profiles/{id}/checks).
function showProblems(problems) {
  const box = $('#profile-problems');
  if (!box) return;
  box.hidden = problems.length === 0;
  mount(box, html`<strong>Agents may not reach a server with this profile.</strong>
    <ul>${problems.map((p) => html`<li><span class="mono">${p.field}</span>: ${p.detail}</li>`)}</ul>`);
}
