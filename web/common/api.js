// api.js - the REST API (/api/v1, docs/api.md) as the web apps call it with a session cookie.
//
// The apps sign in with {"session":"cookie"}: the server keeps the token in an HttpOnly
// cookie that JavaScript never sees. Every change (POST, PATCH, PUT, DELETE) carries the
// header X-Requested-With: pullprint, which a cross-site form cannot set (the server answers
// 403 csrf without it). Extra headers (the panel's X-Panel-Token) are given to createApi().
//
//   const api = createApi({ headers: { 'X-Panel-Token': t } });
//   const me = await api.get('/me');
//   await api.post('/jobs/ID/release', { printer: 3 });
//   await api.upload('/jobs', formData, (sent, total) => ...);
//
// Failures throw ApiError: status (0 when the server could not be reached), code (the API's
// stable word), message (the server's sentence) and retryAfter (seconds, or 0).
// explain(err) turns one into a sentence that says what to do.

export const API_BASE = '/api/v1';
const CSRF = { 'X-Requested-With': 'pullprint' };

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = 0) {
    super(message || code || 'error');
    this.name = 'ApiError';
    this.status = status;
    this.code = code || '';
    this.retryAfter = retryAfter;
  }
}

function retryAfterOf(value) {
  const n = Number.parseInt(value || '', 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

// An ApiError from a status, the response's text and its Retry-After header.
function errorFrom(status, text, retryAfter) {
  let code = '';
  let message = '';
  try {
    const body = JSON.parse(text);
    if (body && body.error) {
      code = body.error.code || '';
      message = body.error.message || '';
    }
  } catch (_) {
    // not JSON (a proxy's page): the status says enough
  }
  return new ApiError(status, code || `http_${status}`, message, retryAfterOf(retryAfter));
}

export function createApi(options = {}) {
  const extra = options.headers || {};

  async function request(method, path, body) {
    const headers = { Accept: 'application/json', ...extra };
    if (method !== 'GET' && method !== 'HEAD') Object.assign(headers, CSRF);
    let payload;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API_BASE + path, {
        method, headers, body: payload, credentials: 'same-origin', cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network', String(err && err.message ? err.message : err));
    }
    const text = response.status === 204 ? '' : await response.text();
    if (!response.ok) {
      throw errorFrom(response.status, text, response.headers.get('Retry-After'));
    }
    if (!text) return { status: response.status };
    try {
      const data = JSON.parse(text);
      if (data && typeof data === 'object' && !Array.isArray(data)) {
        Object.defineProperty(data, '_status', { value: response.status });
      }
      return data;
    } catch (_) {
      throw new ApiError(response.status, 'bad_answer', 'The server gave an answer this app cannot read.');
    }
  }

  // A form upload with progress (fetch cannot report upload progress; XHR can).
  // onProgress(sentBytes, totalBytes) is called as the body leaves. Resolves to the JSON answer.
  function upload(path, form, onProgress, signal) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', API_BASE + path);
      xhr.withCredentials = true;
      xhr.setRequestHeader('Accept', 'application/json');
      for (const [k, v] of Object.entries({ ...extra, ...CSRF })) xhr.setRequestHeader(k, v);
      if (onProgress) {
        xhr.upload.addEventListener('progress', (e) => {
          if (e.lengthComputable) onProgress(e.loaded, e.total);
        });
      }
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(xhr.responseText ? JSON.parse(xhr.responseText) : {});
          } catch (_) {
            reject(new ApiError(xhr.status, 'bad_answer', 'The server gave an answer this app cannot read.'));
          }
        } else {
          reject(errorFrom(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After')));
        }
      });
      xhr.addEventListener('error', () => reject(new ApiError(0, 'network', 'network error')));
      xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'The upload was stopped.')));
      if (signal) signal.addEventListener('abort', () => xhr.abort());
      xhr.send(form);
    });
  }

  return {
    request,
    upload,
    get: (path) => request('GET', path),
    post: (path, body = {}) => request('POST', path, body),
    patch: (path, body) => request('PATCH', path, body),
    del: (path) => request('DELETE', path),
  };
}

// What to tell a person about a failed call: the server's own sentence when it has one
// (it says what to do), otherwise a sentence made from the status.
export function explain(err) {
  if (!(err instanceof ApiError)) {
    return 'Something went wrong in this page. Reload it and try again.';
  }
  if (err.status === 0 && err.code === 'network') {
    return 'The print server cannot be reached. Check your network connection and try again.';
  }
  if (err.code === 'aborted') return err.message;
  const wait = err.retryAfter ? ` Try again in ${formatWait(err.retryAfter)}.` : '';
  if (err.message && !err.code.startsWith('http_')) {
    const sentence = /[.!?]$/.test(err.message) ? err.message : err.message + '.';
    return sentence + (sentence.includes('again') ? '' : wait);
  }
  switch (err.status) {
    case 401: return 'You are signed out. Sign in again.';
    case 403: return 'That is not allowed here. Ask your print administrator if you need it.';
    case 404: return 'That is no longer there. Refresh the list.';
    case 413: return 'The file is too large for this server. Make it smaller (or split it) and try again.';
    case 429: return 'Too many attempts.' + (wait || ' Wait a moment and try again.');
    case 502: case 503: case 504:
      return 'The print server is busy or restarting.' + (wait || ' Try again in a minute.');
    default: return `The print server answered with an error (${err.status}). Try again; if it keeps happening, tell your print administrator.`;
  }
}

export function formatWait(seconds) {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
