// Waves and a brake: the push form's fields (send in waves, a wave's size, the wait between waves, the brake) and the action
// view's waves (each wave's targets by state, when it went, whether the brake stopped the rest).
import { html, $, fmtNumber, fmtDuration, stateBadge } from './ui.js';

/** The form's fields, off until "Send in waves" is ticked. */
export function wavesFields() {
  return html`
    <div class="field waves-fields">
      <label class="check"><input type="checkbox" id="w-on"> <span><strong>Send in waves</strong><br><span class="muted small">A few targets first, the next wave after a wait; stop when too many fail (the rest are marked not-sent).</span></span></label>
      <div class="waves-grid" id="w-settings" hidden>
        <div class="field"><label class="label" for="w-size">Wave size</label>
          <div class="inline"><input id="w-size" type="number" min="1" step="any" value="10"><select id="w-size-unit"><option value="percent">% of targets</option><option value="size">targets</option></select></div></div>
        <div class="field"><label class="label" for="w-every">Wait between waves (seconds)</label><input id="w-every" type="number" min="0" step="any" value="5"></div>
        <div class="field"><label class="label" for="w-stop">Stop after failed <span class="muted">(empty: no brake)</span></label>
          <div class="inline"><input id="w-stop" type="number" min="0" step="any" value="2"><select id="w-stop-unit"><option value="percent">% of sent</option><option value="count">targets</option></select></div></div>
      </div>
    </div>`;
}

/** Shows the settings only while "Send in waves" is ticked. */
export function wireWaves(root) {
  $('#w-on', root).addEventListener('change', (e) => { $('#w-settings', root).hidden = !e.target.checked; });
}

/** The request's <c>waves</c>, or null when the action goes to every target at once. */
export function readWaves(root) {
  if (!$('#w-on', root).checked) return null;
  const size = Number($('#w-size', root).value);
  const waves = { everySeconds: Number($('#w-every', root).value || 0) };
  waves[$('#w-size-unit', root).value === 'percent' ? 'percent' : 'size'] = size;
  const stop = $('#w-stop', root).value.trim();
  if (stop !== '') waves[$('#w-stop-unit', root).value === 'percent' ? 'stopAfterFailedPercent' : 'stopAfterFailedCount'] = Number(stop);
  return waves;
}

/** "10% every 5s, stop after 2% failed": the plan as the scenario files write it. */
export function describePlan(plan) {
  const size = plan.percent != null ? `${plan.percent}%` : `${fmtNumber(plan.size)} targets`;
  const brake = plan.stopAfterFailedPercent != null ? `, stop after ${plan.stopAfterFailedPercent}% failed`
    : plan.stopAfterFailedCount != null ? `, stop after ${fmtNumber(plan.stopAfterFailedCount)} failed` : ', no brake';
  return `${size} every ${plan.everySeconds}s${brake}`;
}

const stateLabels = { sending: ['badge-cyan', 'Sending waves'], done: ['badge-green', 'Every wave sent'], stopped: ['badge-red', 'Stopped by the brake'] };

/** The targets in wave order, by computer name within a wave (as the server cut them), when the action goes out in waves. */
export const inWaveOrder = (status) => (status.waves
  ? [...status.targets].sort((a, b) => (a.wave - b.wave) || String(a.computerName).localeCompare(String(b.computerName)))
  : status.targets);

/** The action's waves: one row per wave with its targets by state and when it went. */
export function renderWaves(status) {
  const waves = status.waves;
  if (!waves) return '';
  const created = new Date(status.createdAt).getTime();
  const [badge, label] = stateLabels[waves.state] ?? ['badge-gray', waves.state];
  return html`
    <div class="waves" id="action-waves" data-waves-state="${waves.state}">
      <div class="waves-head"><h3>Waves</h3><span class="badge ${badge}" id="waves-state">${label}</span>
        <span class="muted small">${describePlan(waves.plan)}</span>
        ${waves.nextWaveAt ? html`<span class="muted small">next wave ${fmtDuration(new Date(waves.nextWaveAt).getTime() - created)} after the start</span>` : ''}</div>
      ${waves.stopReason ? html`<p class="callout callout-danger small" id="waves-stop-reason">${waves.stopReason}</p>` : ''}
      <table class="table" id="waves-table">
        <thead><tr><th class="num">Wave</th><th class="num">Targets</th><th class="num">Sent after</th><th>States</th></tr></thead>
        <tbody>${waves.items.map((w) => html`<tr data-wave="${w.number}" class="${w.startedAt ? '' : 'muted'}">
          <td class="num">${w.number}</td><td class="num">${fmtNumber(w.targets)}</td>
          <td class="num small">${w.startedAt ? fmtDuration(new Date(w.startedAt).getTime() - created) : (waves.state === 'stopped' ? 'not sent' : 'waiting')}</td>
          <td><span class="counts">${Object.entries(w.counts).map(([state, n]) => html`<span class="count">${stateBadge(state)} <strong data-wave-count="${state}">${fmtNumber(n)}</strong></span>`)}</span></td>
        </tr>`)}</tbody>
      </table>
    </div>`;
}
