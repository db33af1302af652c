// app.js - the admin console's shell: sign-in, the navigation (a left column on a desktop,
// a menu on a phone), the page router (#dashboard, #printers, …) and the automatic sign-out
// after idle_timeout_s without a click or key press (warned in the last 30 seconds).
//
// Each page module exports render(main) which fills <main> and may return a function that
// stops its timers when another page is shown.

import { api, session, ApiError } from './api.js';
import { h, clear, field, say, message } from './dom.js';
import * as dashboard from './page-dashboard.js';
import * as settings from './page-settings.js';
import * as printers from './page-printers.js';
import * as users from './page-users.js';
import * as jobs from './page-jobs.js';
import * as reports from './page-reports.js';
import * as audit from './page-audit.js';

const PAGES = { dashboard, settings, printers, users, jobs, reports, audit };
const WARN_S = 30;
// sessionStorage remembers that this tab signed in, so a fresh visit shows the sign-in form
// at once instead of asking the server (and logging a 401).
const SIGNED_IN_KEY = 'pp-admin-signed-in';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const menuButton = document.getElementById('menu-button');
const who = document.getElementById('who');
const signOutButton = document.getElementById('sign-out');
const idleWarning = document.getElementById('idle-warning');
const idleText = document.getElementById('idle-text');

let stopPage = null;
let lastActivity = Date.now();
let idleTimer = null;

function startSession(data) {
  session.admin = data.admin;
  session.csrf = data.csrf_token;
  session.idleTimeoutS = Number(data.idle_timeout_s) || 900;
  try { sessionStorage.setItem(SIGNED_IN_KEY, '1'); } catch (err) { /* private mode */ }
  document.body.classList.toggle('read-only', session.admin.role !== 'admin');
  who.textContent = `${session.admin.name} (${session.admin.role === 'admin' ? 'admin' : 'help desk, read only'})`;
  signOutButton.hidden = false;
  nav.hidden = false;
  menuButton.hidden = false;
  lastActivity = Date.now();
  clearInterval(idleTimer);
  idleTimer = setInterval(checkIdle, 1000);
  if (!location.hash || location.hash === '#signin') location.hash = '#dashboard';
  else show();
}

function endSession(text) {
  clearInterval(idleTimer);
  idleTimer = null;
  session.admin = null;
  session.csrf = '';
  try { sessionStorage.removeItem(SIGNED_IN_KEY); } catch (err) { /* private mode */ }
  if (stopPage) stopPage();
  stopPage = null;
  document.body.classList.remove('read-only');
  who.textContent = '';
  signOutButton.hidden = true;
  nav.hidden = true;
  menuButton.hidden = true;
  idleWarning.hidden = true;
  renderSignIn(text);
}

session.onSignedOut = (text) => {
  if (session.admin) endSession(text);
};

async function signOut(text) {
  try {
    await api('POST', 'logout');
  } catch (err) {
    // already gone on the server: nothing more to do
  }
  endSession(text);
}

function checkIdle() {
  if (!session.admin) return;
  const idleS = (Date.now() - lastActivity) / 1000;
  const left = Math.ceil(session.idleTimeoutS - idleS);
  if (left <= 0) {
    signOut(`You were signed out after ${Math.round(session.idleTimeoutS / 60)} minutes without activity. Sign in again.`);
  } else if (left <= WARN_S) {
    idleText.textContent = `You will be signed out in ${left} s because nothing happened for a while.`;
    idleWarning.hidden = false;
  } else {
    idleWarning.hidden = true;
  }
}

function activity() {
  lastActivity = Date.now();
  if (!idleWarning.hidden) idleWarning.hidden = true;
}
for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
  document.addEventListener(type, activity, { passive: true, capture: true });
}
document.getElementById('idle-stay').addEventListener('click', async () => {
  activity();
  try { await api('GET', 'session'); } catch (err) { /* handled by onSignedOut */ }
});
signOutButton.addEventListener('click', () => signOut('You are signed out.'));
menuButton.addEventListener('click', () => {
  const open = !nav.classList.contains('open');
  nav.classList.toggle('open', open);
  menuButton.setAttribute('aria-expanded', String(open));
});

function renderSignIn(text) {
  if (stopPage) stopPage();
  stopPage = null;
  const name = h('input', { name: 'name', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit', text: 'Sign in' });
  const note = message();
  let waitTimer = null;
  const form = h('form', { className: 'signin card', id: 'signin-form' },
    h('h1', { text: 'Sign in' }),
    h('p', { className: 'hint', text: 'Use your Pullprint admin account.' }),
    field('Name', name), field('Password', password), button, note);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    say(note, 'Signing in…');
    try {
      const data = await api('POST', 'login', { name: name.value.trim(), password: password.value });
      password.value = '';
      startSession(data);
    } catch (err) {
      password.value = '';
      if (err instanceof ApiError && err.status === 429) {
        let left = err.retryAfterS || 60;
        const tick = () => {
          if (left <= 0) {
            clearInterval(waitTimer);
            button.disabled = false;
            say(note, 'You can try again now.');
            return;
          }
          say(note, `Too many attempts. Wait ${left} s, then try again.`, 'error');
          left -= 1;
        };
        clearInterval(waitTimer);
        tick();
        waitTimer = setInterval(tick, 1000);
        return;
      }
      if (err instanceof ApiError && err.status === 401) {
        say(note, 'The name or password is wrong. Check both (passwords are case-sensitive) and try again.', 'error');
      } else {
        say(note, err.message, 'error');
      }
      button.disabled = false;
      password.focus();
    }
  });
  clear(main).append(form);
  if (text) say(note, text, text.startsWith('You are signed out') ? 'ok' : 'error');
  name.focus();
}

function show() {
  if (!session.admin) return;
  const pageName = (location.hash || '#dashboard').slice(1);
  const page = PAGES[pageName] || dashboard;
  if (stopPage) stopPage();
  stopPage = null;
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.page === pageName) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  nav.classList.remove('open');
  menuButton.setAttribute('aria-expanded', 'false');
  clear(main);
  main.dataset.page = pageName;
  stopPage = page.render(main) || null;
  document.title = `${nav.querySelector(`a[data-page="${pageName}"]`)?.textContent || 'Dashboard'} · Pullprint admin`;
}

window.addEventListener('hashchange', show);

async function boot() {
  let signedIn = false;
  try { signedIn = sessionStorage.getItem(SIGNED_IN_KEY) === '1'; } catch (err) { /* private mode */ }
  if (!signedIn) {
    renderSignIn('');
    return;
  }
  try {
    startSession(await api('GET', 'session'));
  } catch (err) {
    try { sessionStorage.removeItem(SIGNED_IN_KEY); } catch (e) { /* private mode */ }
    renderSignIn(err.status === 401 ? 'Your session has ended. Sign in again.' : err.message);
  }
}

boot();
