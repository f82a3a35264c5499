// The console's shell: hash routes, the navigation, the live feed (server-sent events) and sign-out.
import { api } from './api.js';
import { $, $$, mount, errorBox, toast } from './ui.js';
import * as settings from './pages/settings.js';
import * as profiles from './pages/profiles.js';
import * as agentSettings from './pages/agent-settings.js';
import * as fleet from './pages/fleet.js';
import * as agent from './pages/agent.js';
import * as actions from './pages/actions.js';
import * as servers from './pages/servers.js';
import * as audit from './pages/audit.js';
import { loadRole } from './role.js';

const routes = [
  { pattern: /^\/fleet$/, nav: 'fleet', page: fleet },
  { pattern: /^\/agents\/([^/]+)$/, nav: 'fleet', page: agent },
  { pattern: /^\/actions(?:\/([^/]+))?$/, nav: 'actions', page: actions },
  { pattern: /^\/settings$/, nav: 'settings', page: settings },
  { pattern: /^\/profiles$/, nav: 'profiles', page: profiles, view: 'list' },
  { pattern: /^\/profiles\/([^/]+)$/, nav: 'profiles', page: profiles, view: 'edit' },
  { pattern: /^\/agent-settings$/, nav: 'agent-settings', page: agentSettings, view: 'list' },
  { pattern: /^\/agent-settings\/([^/]+)$/, nav: 'agent-settings', page: agentSettings, view: 'edit' },
  { pattern: /^\/servers$/, nav: 'servers', page: servers },
  { pattern: /^\/audit$/, nav: 'audit', page: audit },
];

// ---- live feed --------------------------------------------------------------------------------------
const listeners = new Set();
let latest = null;

/** Subscribes to fleet snapshots ({at, fleet, tcmEnabled, serverName}); returns an unsubscribe function. */
export function onSnapshot(listener) {
  listeners.add(listener);
  if (latest) listener(latest);
  return () => listeners.delete(listener);
}

export const latestSnapshot = () => latest;

function startFeed() {
  const live = $('#live');
  const liveText = $('#live-text');
  const source = new EventSource('/console/api/feed', { withCredentials: true });
  source.addEventListener('open', () => { live.classList.add('live-on'); liveText.textContent = 'Live'; });
  source.addEventListener('error', () => {
    live.classList.remove('live-on');
    liveText.textContent = 'Reconnecting';
    if (source.readyState === EventSource.CLOSED) {
      // why: the browser gives up on a refused stream (401 after the session ended, 5xx); ask why, then start again.
      api.settings().then(() => setTimeout(startFeed, 3000), () => setTimeout(startFeed, 5000));
    }
  });
  source.addEventListener('fleet', (event) => {
    latest = JSON.parse(event.data);
    const pill = $('#tcm-pill');
    pill.textContent = latest.tcmEnabled ? 'TCM on' : 'TCM off';
    pill.className = `pill ${latest.tcmEnabled ? 'pill-on' : 'pill-off'}`;
    $('#server-name').textContent = latest.serverName;
    for (const listener of listeners) {
      try { listener(latest); } catch (e) { console.error(e); }
    }
  });
}

// ---- router -----------------------------------------------------------------------------------------
let cleanup = null;
let generation = 0;

async function route() {
  const path = (location.hash.replace(/^#/, '').split('?')[0]) || '/fleet';
  const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  if (!match) { location.hash = '#/fleet'; return; }
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  const mine = ++generation;
  for (const a of $$('nav a')) a.classList.toggle('active', a.dataset.nav === match.r.nav);
  const host = $('#view');
  // why: a fresh element per page, so listeners a page adds die with it.
  const view = document.createElement('div');
  view.className = 'page';
  host.replaceChildren(view);
  host.setAttribute('aria-busy', 'true');
  const params = match.m.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
  const ctx = {
    view,
    params,
    query,
    mode: match.r.view,
    setTitle: (title) => { $('#page-title').textContent = title; document.title = `${title} · TCM console`; },
    isCurrent: () => mine === generation,
    onSnapshot,
  };
  try {
    const done = await match.r.page.show(ctx);
    // why: a page left while it was still loading must not keep its listeners (the next page's cleanup replaces the slot).
    if (mine === generation) cleanup = done;
    else if (typeof done === 'function') done();
  } catch (e) {
    if (mine === generation) mount(view, errorBox(e));
  } finally {
    if (mine === generation) host.removeAttribute('aria-busy');
  }
}

$('#logout').addEventListener('click', async () => {
  try { await api.logout(); } catch (e) { toast(e.message, 'error'); }
  location.replace('/console/login');
});

window.addEventListener('hashchange', route);
startFeed();
loadRole().catch((e) => toast(e.message, 'error')).finally(route);
