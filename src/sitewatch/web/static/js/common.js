// Shared by every page: a DOM builder that only ever sets text (never HTML), the JSON API
// client that sends the session's CSRF token, and the header.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'href' || key === 'src') {
      node.setAttribute(key, safeUrl(String(value)));
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function safeUrl(url) {
  // only our own paths and plain web links; never javascript: or data: from the catalog
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  if (/^https?:\/\//i.test(url)) return url;
  return '#';
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

let session = null;

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.field = err.field || null;
    this.body = body;
  }
}

function cookie(name) {
  const hit = document.cookie.split('; ').find((c) => c.startsWith(name + '='));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : '';
}

export async function api(path, { method = 'GET', body, login = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = login ? cookie('sw_csrf') : (session ? session.csrf : '');
  }
  const resp = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (resp.status === 401 && !login) {
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
    throw new ApiError(401, data);
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export function setSession(s) { session = s; }
export function currentSession() { return session; }

// Log-in check, header (who, log out, active page); resolves to the session.
export async function start() {
  session = await api('/api/session');
  const who = document.getElementById('who');
  if (who) {
    clear(who).append(
      el('span', { class: 'user', text: `${session.user.name} (${session.user.role})` }),
      el('button', {
        type: 'button', class: 'link', id: 'logout', text: 'Log out',
        onclick: async () => { await api('/api/logout', { method: 'POST' }); location.assign('/login'); },
      }),
    );
  }
  const page = document.body.dataset.page;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === page) a.classList.add('active');
  }
  return session;
}

export function fmtArea(m2) {
  if (m2 === null || m2 === undefined) return '—';
  return Math.round(m2).toLocaleString('en-US');
}

export function fmtScore(x) {
  return x === null || x === undefined ? '—' : Number(x).toFixed(2);
}

export function statusBadge(status) {
  return el('span', { class: `badge ${status}`, text: status });
}

export function showError(node, err) {
  node.textContent = err instanceof ApiError ? err.message : String(err);
}

export function bboxOf(bbox) {
  return [[bbox[0], bbox[1]], [bbox[2], bbox[3]]];
}

export const BLANK_STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#dde3e8' } }],
};
