// api.js - the admin API (/api/v1/admin/) seen from the console: JSON in and out, the
// session's CSRF token on every write, the server's error message kept for the page to show.

export const BASE = '/api/v1/admin/';

export const session = {
  admin: null, // {name, role}
  csrf: '',
  idleTimeoutS: 900,
  onSignedOut: null, // called when the server says the session is gone
};

export class ApiError extends Error {
  constructor(status, code, message, retryAfterS) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

export function isReadOnly() {
  return !session.admin || session.admin.role !== 'admin';
}

// A query string from an object, skipping empty values: {q:'a', state:''} → "?q=a".
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const text = q.toString();
  return text ? '?' + text : '';
}

// The absolute path of an API resource (for download links).
export function href(path, params) {
  return BASE + path + query(params);
}

// Calls the API. Resolves with the parsed JSON (null for 204), rejects with ApiError whose
// message is the server's sentence. A 401 outside sign-in ends the console's session.
export async function api(method, path, body, params) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = session.csrf;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(href(path, params), init);
  } catch (err) {
    throw new ApiError(0, 'network', 'The server did not answer. Check the network and try again.');
  }
  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
  }
  if (response.ok) return data;
  const error = (data && data.error) || {};
  const retry = Number(response.headers.get('Retry-After') || 0) || 0;
  const message = error.message ||
    `The server answered ${response.status} ${response.statusText}. Try again.`;
  const failure = new ApiError(response.status, error.code || 'http_' + response.status,
    message, retry);
  if (response.status === 401 && path !== 'login' && path !== 'session' && session.onSignedOut) {
    session.onSignedOut('Your session has ended. Sign in again.');
  }
  throw failure;
}
