// Small helpers: escaping, formatting, badges, toasts. Every value from the server goes through esc().

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Tagged template: interpolations are escaped unless wrapped with raw(). */
export function html(strings, ...values) {
  let out = '';
  strings.forEach((s, i) => {
    out += s;
    if (i < values.length) out += render(values[i]);
  });
  return new Raw(out);
}

class Raw {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

export const raw = (text) => new Raw(text);

function render(value) {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return esc(value);
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function mount(element, content) {
  element.innerHTML = String(content);
  // why: the CSP forbids style attributes; widths of bars are set through the CSSOM instead.
  for (const bar of element.querySelectorAll('[data-width]')) bar.style.width = `${bar.dataset.width}%`;
}

const number = new Intl.NumberFormat('en-US');
export const fmtNumber = (n) => number.format(n ?? 0);

export function fmtBytes(bytes) {
  const n = Number(bytes ?? 0);
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(2)} ${units[unit]}`;
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function fmtAgo(iso) {
  if (!iso) return 'never';
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

const lower = (v) => String(v ?? '').toLowerCase();

export function modeBadge(mode) {
  switch (lower(mode)) {
    case 'direct': return html`<span class="badge badge-blue">Direct</span>`;
    case 'cem': return html`<span class="badge badge-violet">CEM</span>`;
    default: return html`<span class="badge badge-gray">Offline</span>`;
  }
}

export function transportBadge(transport, connected) {
  return lower(transport) === 'persistent' || connected
    ? html`<span class="badge badge-green"><span class="badge-dot"></span>Persistent</span>`
    : html`<span class="badge badge-amber">HTTP</span>`;
}

const stateClass = {
  pending: 'badge-gray', delivered: 'badge-blue', running: 'badge-cyan',
  succeeded: 'badge-green', failed: 'badge-red', 'timed-out': 'badge-amber',
  expired: 'badge-amber', cancelled: 'badge-gray',
  'not-sent': 'badge-violet',
};

export const stateBadge = (state) => html`<span class="badge ${stateClass[lower(state)] ?? 'badge-gray'}" data-state="${lower(state)}">${lower(state)}</span>`;

export function yesNo(value, yes = 'Enabled', no = 'Disabled') {
  return value ? html`<span class="badge badge-green">${yes}</span>` : html`<span class="badge badge-gray">${no}</span>`;
}

export function toast(message, kind = 'info') {
  const host = document.getElementById('toasts');
  if (!host) return;
  const item = document.createElement('div');
  item.className = `toast toast-${kind}`;
  item.textContent = message;
  host.append(item);
  setTimeout(() => item.classList.add('toast-out'), 4200);
  setTimeout(() => item.remove(), 4700);
}

export function errorBox(error) {
  return html`<div class="callout callout-danger"><strong>Something went wrong.</strong> ${error?.message ?? error}</div>`;
}

export function emptyState(title, text, action = '') {
  return html`<div class="empty"><div class="empty-icon"></div><h3>${title}</h3><p class="muted">${text}</p>${action}</div>`;
}

// A server-side paged list's bar: the range shown and its total ("<id>-info"), and the buttons to the page before and after
// ("<id>-prev", "<id>-next"). One place, so every paged list moves, counts and disables its buttons alike.
export const pagerBar = (id, previous, next) => html`<div class="pager">
  <span class="muted" id="${id}-info"></span>
  <span class="spacer"></span>
  <button class="btn btn-small" id="${id}-prev" type="button">${previous}</button>
  <button class="btn btn-small" id="${id}-next" type="button">${next}</button>
</div>`;

// Wires a mounted pagerBar to the list's state ({ skip }) and its load(); returns what shows each loaded page (the items shown,
// the total). An empty list shows "0–0 of 0 <noun>", or nothing with blankWhenEmpty.
export function pager(id, state, pageSize, load, noun, { blankWhenEmpty = false } = {}) {
  $(`#${id}-prev`).addEventListener('click', () => { state.skip = Math.max(0, state.skip - pageSize); load(); });
  $(`#${id}-next`).addEventListener('click', () => { state.skip += pageSize; load(); });
  return (shown, total) => {
    $(`#${id}-info`).textContent = total === 0 && blankWhenEmpty
      ? ''
      : `${fmtNumber(total === 0 ? 0 : state.skip + 1)}–${fmtNumber(state.skip + shown)} of ${fmtNumber(total)} ${noun}`;
    $(`#${id}-prev`).disabled = state.skip === 0;
    $(`#${id}-next`).disabled = state.skip + pageSize >= total;
  };
}

export function lines(text) {
  return String(text ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function describeTargets(targets) {
  if (!targets) return 'Nobody';
  if (targets.all) return 'All computers';
  const parts = [];
  for (const r of targets.rules ?? []) parts.push(`${r.attribute} = ${r.pattern}`);
  const rules = parts.join(' and ');
  const agents = targets.agents ?? [];
  const list = agents.length ? `${agents.length} computer${agents.length === 1 ? '' : 's'}` : '';
  return [rules, list].filter(Boolean).join(' or ') || 'Nobody';
}
