// The web app's client of the REST API: JSON in and out, the session's CSRF
// token on writes, and one place that notices a lost session (401).

let csrf = null;
let lostHandler = null;

export function setCsrf(token) {
  csrf = token || null;
}

// fn() runs when a request answers 401 outside signing in: the session
// cookie expired or was revoked, and the app goes back to sign-in.
export function onSessionLost(fn) {
  lostHandler = fn;
}

// Answers { status, data }; status 0 when the server could not be reached.
export async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (csrf && method !== 'GET') opts.headers['X-CSRF-Token'] = csrf;
  let res;
  let text;
  try {
    res = await fetch(path, opts);
    text = await res.text();
  } catch (e) {
    return { status: 0, data: null };
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (res.status === 401 && lostHandler && !path.startsWith('/v1/sessions') &&
      path !== '/v1/me') {
    lostHandler();
  }
  return { status: res.status, data };
}

// Sends a file as the body (POST /v1/audio): the server reads its bytes
// to tell the format, so the type is always application/octet-stream.
// Answers as api() does.
export async function upload(path, file) {
  const headers = { 'Content-Type': 'application/octet-stream' };
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  let text;
  try {
    res = await fetch(path, { method: 'POST', headers, body: file, credentials: 'same-origin' });
    text = await res.text();
  } catch (e) {
    return { status: 0, data: null };
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (res.status === 401 && lostHandler) lostHandler();
  return { status: res.status, data };
}

// The message of an error answer, for people.
export function errorText(res, what) {
  if (res.status === 0) return `${what}: the server cannot be reached.`;
  const e = res.data && res.data.error;
  if (e && e.message) return `${what}: ${e.message}`;
  return `${what}: the server answered ${res.status}.`;
}
