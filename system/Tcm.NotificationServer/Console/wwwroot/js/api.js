// The admin API, called with the console's session cookie and its CSRF header.

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, body) {
  const headers = { 'X-Tcm-Console': '1', Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    location.replace('/console/login' + location.hash);
    throw new ApiError(401, 'admin-key-required', 'The session has ended; sign in again.');
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json?.code, json?.detail);
  return json;
}

const admin = '/tcm/admin';
const enc = encodeURIComponent;

export const api = {
  settings: () => request('GET', `${admin}/settings`),
  saveSettings: (settings) => request('PUT', `${admin}/settings`, settings),

  profiles: () => request('GET', `${admin}/profiles`),
  profile: (id) => request('GET', `${admin}/profiles/${enc(id)}`),
  createProfile: (profile) => request('POST', `${admin}/profiles`, profile),
  saveProfile: (profile) => request('PUT', `${admin}/profiles/${enc(profile.id)}`, profile),
  deleteProfile: (id) => request('DELETE', `${admin}/profiles/${enc(id)}`),
  profileChecks: (id) => request('GET', `${admin}/profiles/${enc(id)}/checks`),
  buildPackage: (id) => request('POST', `${admin}/profiles/${enc(id)}/package`),

  agentSettingsList: () => request('GET', `${admin}/agent-settings`),
  agentSettings: (id) => request('GET', `${admin}/agent-settings/${enc(id)}`),
  createAgentSettings: (s) => request('POST', `${admin}/agent-settings`, s),
  saveAgentSettings: (s) => request('PUT', `${admin}/agent-settings/${enc(s.id)}`, s),
  deleteAgentSettings: (id) => request('DELETE', `${admin}/agent-settings/${enc(id)}`),

  agents: ({ skip = 0, take = 50, search = '', connected = '' } = {}) => {
    const q = new URLSearchParams({ skip, take });
    if (search) q.set('search', search);
    if (connected !== '') q.set('connected', connected);
    return request('GET', `${admin}/agents?${q}`);
  },
  agent: (id) => request('GET', `${admin}/agents/${enc(id)}`),
  networkStatus: (id) => request('GET', `${admin}/agents/${enc(id)}/network-status`),
  terminate: (id) => request('POST', `${admin}/agents/${enc(id)}/terminate`),
  fleet: () => request('GET', `${admin}/fleet`),

  pushTask: (body) => request('POST', `${admin}/actions/task`, body),
  pushPolicy: (body) => request('POST', `${admin}/actions/policy`, body),
  inventoryNow: (body) => request('POST', `${admin}/actions/inventory`, body),
  action: (id) => request('GET', `${admin}/actions/${enc(id)}`),
  cancelAction: (id) => request('POST', `${admin}/actions/${enc(id)}/cancel`),

  taskServers: () => request('GET', `${admin}/task-servers`),
  siteServers: () => request('GET', `${admin}/site-servers`),
  gateways: () => request('GET', `${admin}/gateways`),
  decideCertificate: (gateway, thumbprint, action) => request('POST', `${admin}/gateways/${enc(gateway)}/certificates/${enc(thumbprint)}/${enc(action)}`),

  whoami: () => request('GET', `${admin}/whoami`),
  audit: (filters = {}) => request('GET', `${admin}/audit?${new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== '' && v != null))}`),

  logout: () => request('POST', '/console/api/logout'),
};
