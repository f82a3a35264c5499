// The signed-in key: its name and role in the top bar, and the console shows only what that role may do. A control that
// needs a role carries data-needs="operator|administrator": access.css hides it from lesser roles; a form or switch that
// needs one stays visible to read but is made inert. The server refuses such calls anyway (403 role-forbidden).
import { api } from './api.js';
import { html, mount } from './ui.js';

const rank = { viewer: 0, operator: 1, administrator: 2 };
const words = {
  administrator: 'Administrator: everything',
  operator: 'Operator: runs actions and terminates connections; reads everything',
  viewer: 'Viewer: reads everything, changes nothing',
};

let identity = null;

/** Whether the signed-in key may do what needs `role`. */
export const may = (role) => identity !== null && rank[identity.role] >= rank[role];

function freeze(root) {
  for (const element of root.querySelectorAll('form[data-needs], .switch[data-needs]')) {
    if (!may(element.dataset.needs) && !element.inert) {
      element.inert = true;
      element.classList.add('read-only');
    }
  }
}

/** Asks the server who is signed in, marks the page with the role and keeps new content in step with it. */
export async function loadRole() {
  identity = await api.whoami();
  document.body.dataset.role = identity.role;
  const pill = document.createElement('span');
  pill.id = 'role-pill';
  pill.className = `pill role-${identity.role}`;
  pill.title = words[identity.role] ?? identity.role;
  mount(pill, html`${identity.name} · ${identity.role}`);
  document.querySelector('.topbar-right')?.prepend(pill);
  const view = document.getElementById('view');
  freeze(view);
  new MutationObserver(() => freeze(view)).observe(view, { childList: true, subtree: true });
}
