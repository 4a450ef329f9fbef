// Ringtrail web app: sign in with a dashboard session, then show the account.
// The session cookie is HttpOnly; writes send the CSRF token from the login
// answer (or /v1/me after a reload) in the X-CSRF-Token header.

let csrf = null;

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (csrf && method !== 'GET') opts.headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, opts);
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  return { status: res.status, data };
}

function show(view) {
  $('login-view').hidden = view !== 'login';
  $('home-view').hidden = view !== 'home';
  $('who').hidden = view !== 'home';
  $('logout').hidden = view !== 'home';
}

async function showHome(me) {
  csrf = me.csrf_token || csrf;
  const acct = me.account;
  $('who').textContent = me.principal.email || me.principal.name;
  $('account-name').textContent = acct.name;
  $('account-kind').textContent = acct.kind;
  $('account-tz').textContent = acct.time_zone;
  $('account-currency').textContent = acct.currency;
  $('role').textContent = me.principal.role || me.scopes.join(', ');

  const list = $('accounts');
  list.replaceChildren();
  const res = await api('GET', '/v1/accounts?limit=200');
  const children = (res.data && res.data.data || []).filter((a) => a.id !== acct.id);
  if (children.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'No client accounts yet.';
    list.append(li);
  }
  for (const a of children) {
    const li = document.createElement('li');
    li.textContent = `${a.name} · ${a.time_zone} · ${a.currency}`;
    list.append(li);
  }
  show('home');
}

async function start() {
  const res = await api('GET', '/v1/me');
  if (res.status === 200) {
    await showHome(res.data);
  } else {
    show('login');
  }
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const err = $('login-error');
  err.hidden = true;
  const res = await api('POST', '/v1/sessions', {
    email: form.email.value.trim(),
    password: form.password.value,
  });
  if (res.status !== 201) {
    err.textContent = res.data && res.data.error ? res.data.error.message : 'Sign-in failed';
    err.hidden = false;
    return;
  }
  csrf = res.data.csrf_token;
  form.password.value = '';
  const me = await api('GET', '/v1/me');
  await showHome(me.data);
});

$('logout').addEventListener('click', async () => {
  await api('DELETE', '/v1/sessions/current');
  csrf = null;
  show('login');
});

start();
