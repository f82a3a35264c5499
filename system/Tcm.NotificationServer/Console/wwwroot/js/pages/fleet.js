// Fleet: live counts (server-sent events, once a second) and a searchable, server-side paged agent list.
import { api } from '../api.js';
import { html, $, $$, mount, fmtNumber, fmtAgo, fmtBytes, modeBadge, transportBadge, debounce, emptyState, errorBox, pagerBar, pager } from '../ui.js';

const pageSize = 50;
const state = { skip: 0, search: '', connected: '', selected: new Map() };

function pct(part, total) {
  return total > 0 ? Math.round((part / total) * 1000) / 10 : 0;
}

function stat(id, label, value, total, tone, hint) {
  return html`<div class="stat stat-${tone}" id="stat-${id}">
    <div class="stat-label">${label}</div>
    <div class="stat-value" data-stat="${id}">${fmtNumber(value)}</div>
    <div class="meter"><span class="meter-fill" data-width="${pct(value, total)}"></span></div>
    <div class="stat-hint">${hint}</div>
  </div>`;
}

function stats(f) {
  const online = f.total - f.offline;
  return html`
    ${stat('total', 'Agents', f.total, f.total, 'slate', `${fmtNumber(online)} seen, ${fmtNumber(f.offline)} never contacted`)}
    ${stat('persistent', 'Persistent', f.persistent, f.total, 'green', `${pct(f.persistent, f.total)}% hold a WebSocket now`)}
    ${stat('http', 'HTTP polling', f.http, f.total, 'amber', `${pct(f.http, f.total)}% reach the server by polling`)}
    ${stat('direct', 'Direct', f.direct, f.total, 'blue', 'call the server directly')}
    ${stat('cem', 'CEM', f.cem, f.total, 'violet', 'through an Internet Gateway')}
    ${stat('offline', 'Offline', f.offline, f.total, 'gray', 'not connected, never reported')}`;
}

export async function show(ctx) {
  ctx.setTitle('Fleet');
  const initial = await api.fleet();
  mount(ctx.view, html`
    <section class="stats" id="fleet-stats">${stats(initial)}</section>
    <div class="composition" aria-label="Connection state of the fleet">
      <div class="composition-bar" id="composition"></div>
      <div class="composition-legend"><span class="key key-green"></span>Persistent <span class="key key-amber"></span>HTTP <span class="key key-gray"></span>Offline <span class="muted" id="fleet-updated"></span></div>
    </div>
    <section class="card card-flush">
      <div class="toolbar">
        <input type="search" id="agent-search" placeholder="Search computer name, domain or agent id" value="${state.search}" spellcheck="false" aria-label="Search agents">
        <select id="agent-filter" aria-label="Connection filter">
          <option value="">All agents</option>
          <option value="true" ${state.connected === 'true' ? 'selected' : ''}>Persistent connection</option>
          <option value="false" ${state.connected === 'false' ? 'selected' : ''}>No persistent connection</option>
        </select>
        <span class="spacer"></span>
        <span class="muted" id="selection-count"></span>
        <button class="btn" data-needs="operator" id="act-on-selection" type="button" disabled>Run action on selection</button>
      </div>
      <div id="agent-table"></div>
      ${pagerBar('page', '← Previous', 'Next →')}
    </section>`);
  drawComposition(initial);

  let total = 0;
  const showPage = pager('page', state, pageSize, load, 'agents');
  let loading = false;
  let again = false;
  async function load() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const page = await api.agents({ skip: state.skip, take: pageSize, search: state.search, connected: state.connected });
      if (!ctx.isCurrent()) return;
      total = page.total;
      if (state.skip > 0 && state.skip >= total) { state.skip = Math.max(0, Math.floor((total - 1) / pageSize) * pageSize); again = true; return; }
      renderTable(page);
    } catch (e) {
      mount($('#agent-table'), errorBox(e));
    } finally {
      loading = false;
      if (again && ctx.isCurrent()) { again = false; load(); }
    }
  }

  function renderTable(page) {
    const table = $('#agent-table');
    if (page.items.length === 0) {
      mount(table, state.search || state.connected
        ? emptyState('No agent matches', 'Change the search or the filter.')
        : emptyState('No agents yet', 'Build an install package from a communication profile and install the agent on a computer.', html`<a class="btn btn-primary" href="#/profiles">Communication profiles</a>`));
    } else {
      mount(table, html`<table class="table table-hover" id="agents">
        <thead><tr><th class="check-cell"><input type="checkbox" id="select-page" aria-label="Select this page"></th><th>Computer</th><th>Domain</th><th>OS</th><th>Mode</th><th>Server connection</th><th>Route</th><th>Node</th><th>Last contact</th><th class="num">Sent</th><th class="num">Received</th></tr></thead>
        <tbody>${page.items.map((a) => html`
          <tr data-id="${a.id}" data-name="${a.computerName}" class="agent-row">
            <td class="check-cell"><input type="checkbox" class="select-agent" ${state.selected.has(a.id) ? 'checked' : ''} aria-label="Select ${a.computerName}"></td>
            <td><a class="strong" href="#/agents/${encodeURIComponent(a.id)}">${a.computerName}</a><div class="mono tiny muted">${a.id}</div></td>
            <td>${a.domain ?? ''}</td>
            <td class="small">${a.osName ?? ''}</td>
            <td>${modeBadge(a.mode)}</td>
            <td>${transportBadge(a.transport, a.connected)}</td>
            <td class="small mono">${a.route ?? '—'}</td>
            <td class="small mono">${a.node ?? '—'}</td>
            <td class="small" title="${a.lastContact ?? ''}">${fmtAgo(a.lastContact)}</td>
            <td class="num small">${fmtBytes(a.bytesSent)}</td>
            <td class="num small">${fmtBytes(a.bytesReceived)}</td>
          </tr>`)}
        </tbody></table>`);
    }
    showPage(page.items.length, total);
    updateSelection();
  }

  function updateSelection() {
    const n = state.selected.size;
    $('#selection-count').textContent = n ? `${fmtNumber(n)} selected` : '';
    $('#act-on-selection').disabled = n === 0;
    const boxes = $$('.select-agent');
    const all = $('#select-page');
    if (all) all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
  }

  const view = ctx.view;
  $('#agent-search').addEventListener('input', debounce((e) => { state.search = e.target.value.trim(); state.skip = 0; load(); }, 250));
  $('#agent-filter').addEventListener('change', (e) => { state.connected = e.target.value; state.skip = 0; load(); });
  view.addEventListener('change', (e) => {
    if (e.target.id === 'select-page') {
      for (const box of $$('.select-agent')) {
        box.checked = e.target.checked;
        const row = box.closest('tr');
        if (box.checked) state.selected.set(row.dataset.id, row.dataset.name); else state.selected.delete(row.dataset.id);
      }
    } else if (e.target.classList.contains('select-agent')) {
      const row = e.target.closest('tr');
      if (e.target.checked) state.selected.set(row.dataset.id, row.dataset.name); else state.selected.delete(row.dataset.id);
    }
    updateSelection();
  });
  view.addEventListener('click', (e) => {
    const row = e.target.closest('tr.agent-row');
    if (row && !e.target.closest('a, input')) location.hash = `#/agents/${encodeURIComponent(row.dataset.id)}`;
  });
  $('#act-on-selection').addEventListener('click', () => {
    sessionStorage.setItem('tcm-selection', JSON.stringify([...state.selected.values()]));
    location.hash = '#/actions?selection=1';
  });

  await load();

  // Live: counts every second from the feed; the visible page follows when the counts move (at most every 2 s).
  let lastCounts = JSON.stringify(initial);
  let lastReload = 0;
  let pending = null;
  return ctx.onSnapshot((snapshot) => {
    const f = snapshot.fleet;
    mount($('#fleet-stats'), stats(f));
    drawComposition(f);
    $('#fleet-updated').textContent = `· updated ${new Date(snapshot.at).toLocaleTimeString('en-GB')}`;
    const counts = JSON.stringify(f);
    if (counts !== lastCounts) {
      lastCounts = counts;
      const wait = Math.max(0, 2000 - (Date.now() - lastReload));
      clearTimeout(pending);
      pending = setTimeout(() => { lastReload = Date.now(); if (ctx.isCurrent()) load(); }, wait);
    }
  });
}

function drawComposition(f) {
  const bar = $('#composition');
  if (!bar) return;
  mount(bar, html`
    <span class="seg seg-green" data-width="${pct(f.persistent, f.total)}" title="Persistent: ${f.persistent}"></span>
    <span class="seg seg-amber" data-width="${pct(f.http, f.total)}" title="HTTP: ${f.http}"></span>
    <span class="seg seg-gray" data-width="${pct(f.offline, f.total)}" title="Offline: ${f.offline}"></span>`);
}
