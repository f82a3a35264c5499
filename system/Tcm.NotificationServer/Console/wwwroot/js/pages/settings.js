// Settings: "Time critical management: Communication", off by default, with what it does.
import { api } from '../api.js';
import { html, $, mount, toast, fmtNumber } from '../ui.js';

export async function show(ctx) {
  ctx.setTitle('Settings');
  const settings = await api.settings();
  mount(ctx.view, html`
    <p class="lead">Notification Server settings. Changes reach connected agents at once, with their new policy.</p>
    <section class="card">
      <div class="card-head"><h2>Processing</h2></div>
      <div class="setting">
        <div class="setting-text">
          <h3>Server processing</h3>
          <p class="muted">Communication with all agents, events processing, policy requests and scheduled processing. Always on.</p>
        </div>
        <span class="badge badge-green">Running</span>
      </div>
      <div class="setting">
        <div class="setting-text">
          <h3>Time critical management: Communication</h3>
          <p class="muted">Provides real-time bidirectional communication with agents.</p>
        </div>
        <label class="switch" data-needs="administrator">
          <input type="checkbox" id="tcm-enabled" ${settings.tcmEnabled ? 'checked' : ''}>
          <span class="switch-track"><span class="switch-thumb"></span></span>
          <span class="switch-label" id="tcm-enabled-label">${settings.tcmEnabled ? 'On' : 'Off'}</span>
        </label>
      </div>
      <div class="explain">
        <div class="explain-col">
          <h4><span class="badge badge-green">On</span> What happens</h4>
          <ul>
            <li>Agents whose communication profile enables <em>persistent connection</em> open a WebSocket to this server on its HTTPS port (directly, or through the CEM gateway) and keep it open.</li>
            <li>Tasks, policies and on-demand inventory reach them in well under a second; their own requests travel over the same connection.</li>
            <li>Agents that are not targeted by such a profile keep polling over HTTP.</li>
          </ul>
        </div>
        <div class="explain-col">
          <h4><span class="badge badge-gray">Off</span> What happens (the default)</h4>
          <ul>
            <li>The server refuses persistent connections (<code>tcm-disabled</code>); connected agents get their new policy, then their connection is closed.</li>
            <li>Every agent works over plain HTTP: it asks for policies and tasks on its polling interval, so an action waits for the next check-in.</li>
          </ul>
        </div>
      </div>
      <div class="card-foot">
        <span class="muted" id="tcm-now"></span>
        <button class="btn btn-primary" data-needs="administrator" id="save-settings" type="button">Save changes</button>
      </div>
    </section>`);

  const box = $('#tcm-enabled');
  box.addEventListener('change', () => { $('#tcm-enabled-label').textContent = box.checked ? 'On' : 'Off'; });
  $('#save-settings').addEventListener('click', async (event) => {
    event.target.disabled = true;
    try {
      const saved = await api.saveSettings({ ...settings, tcmEnabled: box.checked });
      settings.tcmEnabled = saved.tcmEnabled;
      toast(saved.tcmEnabled ? 'TCM communication is on: targeted agents connect now.' : 'TCM communication is off: agents fall back to HTTP.', 'success');
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      event.target.disabled = false;
    }
  });

  return ctx.onSnapshot((s) => {
    $('#tcm-now').textContent = `Now: ${fmtNumber(s.fleet.persistent)} of ${fmtNumber(s.fleet.total)} agents hold a persistent connection.`;
  });
}
