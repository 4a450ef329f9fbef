// Ringtrail web app: sign in with a dashboard session, then the account
// page (#/), the call flows (#/flows) and the flow editor (#/flows/ID, and
// #/flows/ID/v/N for an older version, read-only). The session cookie is
// HttpOnly; writes send the CSRF token from the login answer (or /v1/me
// after a reload) in the X-CSRF-Token header. A 401 from any request goes
// back to sign-in, and then to the page that was open.

import { api, onSessionLost, setCsrf } from './api.js';
import { FlowEditor } from './flows/editor.js';
import { FlowList } from './flows/list.js';

let me = null;
let editor = null;
// After a lost session, the editor is kept for the same user to go on with.
let kept = null;

const $ = (id) => document.getElementById(id);

const VIEWS = ['login', 'home', 'flows', 'editor'];

function show(view) {
  for (const v of VIEWS) $(`${v}-view`).hidden = v !== view;
  const signedIn = view !== 'login';
  $('who').hidden = !signedIn;
  $('logout').hidden = !signedIn;
  $('nav').hidden = !signedIn;
  for (const a of $('nav').querySelectorAll('a')) {
    const on = a.dataset.view === view || (a.dataset.view === 'flows' && view === 'editor');
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.body.classList.toggle('wide', view === 'editor');
}

function showLogin(notice, keepEditor) {
  kept = keepEditor && editor && me ? { editor, user: me.principal.id } : null;
  me = null;
  editor = null;
  setCsrf(null);
  const n = $('login-notice');
  n.textContent = notice || '';
  n.hidden = !notice;
  show('login');
}

async function showHome() {
  const acct = me.account;
  $('account-name').textContent = acct.name;
  $('account-kind').textContent = acct.kind;
  $('account-tz').textContent = acct.time_zone;
  $('account-currency').textContent = acct.currency;
  $('role').textContent = me.principal.role || me.scopes.join(', ');

  const list = $('accounts');
  list.replaceChildren();
  show('home');
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
}

// The page the hash names.
async function route() {
  if (!me) return;
  const hash = location.hash || '#/';
  let m;
  if (kept && kept.user === me.principal.id && hash === kept.editor.hash) editor = kept.editor;
  kept = null;
  if (editor && hash === editor.hash) {
    show('editor');
    return;
  }
  if (editor && editor.dirty && !window.confirm('Leave the flow without saving your changes?')) {
    history.replaceState(null, '', editor.hash);
    return;
  }
  editor = null;
  if (hash === '#/flows') {
    show('flows');
    await new FlowList($('flows-view'), me).show();
  } else if ((m = hash.match(/^#\/flows\/(\d+)(?:\/v\/(\d+))?$/))) {
    show('editor');
    editor = new FlowEditor($('editor-view'), { id: Number(m[1]), version: m[2] ? Number(m[2]) : null });
    await editor.load();
  } else {
    await showHome();
  }
}

async function signedIn(answer) {
  me = answer;
  setCsrf(me.csrf_token);
  $('who').textContent = me.principal.email || me.principal.name;
  await route();
}

async function start() {
  const res = await api('GET', '/v1/me');
  if (res.status === 200) {
    await signedIn(res.data);
  } else {
    showLogin(res.status === 0 ? 'The server cannot be reached.' : '');
  }
}

onSessionLost(() => {
  if (me) showLogin('Your session has ended: sign in again to go on.', true);
});

window.addEventListener('hashchange', () => route());

window.addEventListener('beforeunload', (e) => {
  if (editor && editor.dirty) {
    e.preventDefault();
    e.returnValue = '';
  }
});

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
  setCsrf(res.data.csrf_token);
  form.password.value = '';
  $('login-notice').hidden = true;
  const answer = await api('GET', '/v1/me');
  await signedIn({ ...answer.data, csrf_token: res.data.csrf_token });
});

$('logout').addEventListener('click', async () => {
  if (editor && editor.dirty && !window.confirm('Sign out without saving your changes?')) return;
  await api('DELETE', '/v1/sessions/current');
  showLogin('');
});

start();
