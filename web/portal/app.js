// app.js - the portal: sign-in and enrolment, the job list with live state, uploads
// (picked, dropped or shared from another app), print now, and the notices when a job
// has printed or failed. Talks to the REST API with a session cookie (../common/api.js);
// the token never reaches JavaScript.
import { createApi, explain, ApiError } from '../common/api.js';
import { h, $, toast, busy, formatBytes, formatTime } from '../common/dom.js';
import { PrinterPicker, remember } from './printers.js';
import { JobSheet, WAITING, pageImage, stateSentence } from './sheet.js';

const api = createApi();
const SIGNED_IN_HINT = 'pp.portal.signedIn'; // "1" while signed in: spares a 401 at start
const SHARE_CACHE = 'pp-share-pending';       // files shared while signed out (sw.js)
const MODE_LABELS = { email_code: 'Email and code', code: 'Code only', directory: 'Company login' };
const ACTIVE = new Set(['incoming', 'received', 'converting', 'releasing', 'printing']);

const state = {
  me: null,
  loginOptions: null,
  jobs: new Map(),  // id -> job summary
  cursor: null,
  events: null,
  eventsFailed: 0,
  pollTimer: 0,
  printers: new Map(), // id -> printer, for the notices
};

const app = {
  api,
  onAuthLost: () => signedOut('Your session has ended. Sign in again.'),
  release,
  remove,
  printNow,
  saveOptions,
};
app.pickers = new PrinterPicker(api, app.onAuthLost);
const sheet = new JobSheet(app);

// ---------------------------------------------------------------- views

function show(view) {
  $('#loading').hidden = true;
  $('#view-signin').hidden = view !== 'signin';
  $('#view-jobs').hidden = view !== 'jobs';
  $('#signout').hidden = view !== 'jobs';
  $('#whoami').hidden = view !== 'jobs';
}

// ---------------------------------------------------------------- sign-in and enrolment

function selectedMode() {
  const checked = document.querySelector('input[name="mode"]:checked');
  if (checked) return checked.value;
  const modes = (state.loginOptions && state.loginOptions.modes) || ['email_code'];
  return modes[0];
}

function showModeFields() {
  const mode = selectedMode();
  for (const field of document.querySelectorAll('#signin-form [data-for]')) {
    field.hidden = !field.dataset.for.split(' ').includes(mode);
  }
}

function setMode(mode) {
  const radio = document.querySelector(`input[name="mode"][value="${mode}"]`);
  if (radio) radio.checked = true;
  showModeFields();
}

function buildSignIn(options) {
  const modes = (options.modes && options.modes.length ? options.modes : ['email_code'])
    .filter((m) => MODE_LABELS[m]);
  const choices = $('#mode-choices');
  choices.replaceChildren(...modes.map((m, i) => h('label', {},
    h('input', { type: 'radio', name: 'mode', value: m, checked: i === 0, onchange: showModeFields }),
    h('span', {}, MODE_LABELS[m]))));
  $('#mode-field').hidden = modes.length < 2;
  if (options.code_length) {
    $('#signin-code-hint').textContent =
      `The ${options.code_length}-digit code the print service mailed you.`;
  }
  $('#enrol-card').hidden = options.enrolment === false;
  showModeFields();
}

function formError(box, message, focus) {
  box.textContent = message;
  box.hidden = false;
  (focus || box).focus();
}

async function signIn(event) {
  event.preventDefault();
  const box = $('#signin-error');
  box.hidden = true;
  const mode = selectedMode();
  const body = { session: 'cookie', stay_signed_in: $('#signin-stay').checked };
  const email = $('#signin-email').value.trim();
  const code = $('#signin-code').value.trim();
  if (mode === 'email_code' && !email) return formError(box, 'Enter your email address.', $('#signin-email'));
  if ((mode === 'email_code' || mode === 'code') && !/^\d+$/.test(code)) {
    return formError(box, 'Enter the confirmation code: digits only, as in the mail you got.', $('#signin-code'));
  }
  if (mode === 'email_code') Object.assign(body, { email, code });
  if (mode === 'code') body.code = code;
  if (mode === 'directory') {
    const login = $('#signin-login').value.trim();
    const password = $('#signin-password').value;
    if (!login) return formError(box, 'Enter your company user name.', $('#signin-login'));
    if (!password) return formError(box, 'Enter your password.', $('#signin-password'));
    Object.assign(body, { login, password });
  }
  try {
    const answer = await busy($('#signin-submit'), () => api.post('/login', body));
    $('#signin-code').value = '';
    $('#signin-password').value = '';
    await signedIn(answer.user);
  } catch (err) {
    let message = explain(err);
    if (err.status === 401) {
      message = mode === 'directory'
        ? 'That user name and password do not match. Check them and try again.'
        : 'That code does not match. Check the latest mail from the print service, or get a new code below.';
    }
    formError(box, message, mode === 'directory' ? $('#signin-password') : $('#signin-code'));
  }
}

async function enrol(event) {
  event.preventDefault();
  const box = $('#enrol-result');
  box.hidden = true;
  box.className = 'notice';
  const company = $('#enrol-company').value.trim().toUpperCase();
  const email = $('#enrol-email').value.trim();
  const bad = (message, input) => {
    box.className = 'notice notice-error';
    box.setAttribute('role', 'alert');
    formError(box, message, input);
  };
  if (!/^[A-Z0-9]{6}$/.test(company)) return bad('The company code has six letters and digits. Ask your print administrator for it.', $('#enrol-company'));
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) return bad('Enter your email address, like name@example.com.', $('#enrol-email'));
  try {
    const answer = await busy($('#enrol-submit'), () => api.post('/enrol', { company_code: company, email }));
    box.className = 'notice notice-ok';
    box.setAttribute('role', 'status');
    if (answer.status === 'pending_approval') {
      box.textContent = `Your account waits for an administrator's approval. A code is mailed to ${email}; you can print once the account is approved.`;
    } else {
      box.textContent = `Code sent: a confirmation code is on its way to ${email}. Enter it above to sign in.`;
    }
    box.hidden = false;
    if (state.loginOptions && (state.loginOptions.modes || []).includes('email_code')) setMode('email_code');
    $('#signin-email').value = email;
    $('#signin-code').focus();
  } catch (err) {
    let message = explain(err);
    if (err.code === 'invalid_company_code') message = 'That company code is not right. Check it with your print administrator.';
    bad(message, err.code === 'invalid_company_code' ? $('#enrol-company') : null);
  }
}

async function signedIn(user) {
  state.me = user;
  try { localStorage.setItem(SIGNED_IN_HINT, '1'); } catch (_) { /* private mode */ }
  $('#whoami').textContent = user.display_name || user.email;
  $('#whoami').title = user.email;
  show('jobs');
  $('#jobs-title').focus();
  registerWorker();
  await loadJobs();
  openEvents();
  uploadShared();
  sharedNotice();
}

// Back to the sign-in screen, with nothing of the user left on the page.
function signedOut(message) {
  state.me = null;
  try { localStorage.removeItem(SIGNED_IN_HINT); } catch (_) { /* private mode */ }
  closeEvents();
  state.jobs.clear();
  state.cursor = null;
  $('#jobs').replaceChildren();
  $('#uploads').replaceChildren();
  $('#jobs-more').hidden = true;
  $('#whoami').textContent = '';
  app.pickers.forget();
  sheet.printer = null;
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  document.querySelectorAll('.toast').forEach((t) => t.remove());
  show('signin');
  const box = $('#signin-error');
  box.className = 'notice notice-error';
  if (message) {
    box.textContent = message;
    box.hidden = false;
  } else {
    box.hidden = true;
  }
  $('#signin-title').setAttribute('tabindex', '-1');
  $('#signin-title').focus();
}

async function signOut() {
  try {
    await busy($('#signout'), () => api.post('/logout', {}));
  } catch (err) {
    if (err.status !== 401) toast(explain(err), 'error');
  }
  signedOut('');
  toast('You are signed out.', 'ok');
}

// ---------------------------------------------------------------- the job list

function sortedJobs() {
  return [...state.jobs.values()].sort((a, b) => (b.created_at - a.created_at) || (b.number - a.number));
}

// A job the printer could not print, back on hold with the reason (delivery failed).
function heldAgain(job) {
  return job.state === 'held' && Boolean(job.state_reason);
}

function pillOf(job) {
  if (heldAgain(job)) return h('span', { class: 'pill pill-error' }, 'Not printed');
  const cls = job.state === 'completed' ? 'pill-ok'
    : (job.state === 'failed' || job.state === 'rejected') ? 'pill-error'
      : (job.state === 'expired' || job.state === 'canceled') ? 'pill-warn' : '';
  const words = {
    incoming: 'Uploading', received: 'Preparing', converting: 'Preparing', held: 'Ready',
    releasing: 'Sending', printing: 'Printing', completed: 'Printed', failed: 'Failed',
    rejected: 'Not printable', canceled: 'Canceled', expired: 'Expired',
  };
  return h('span', { class: 'pill ' + cls }, words[job.state] || job.state);
}

function thumbOf(job) {
  if (job.thumbnail_url && !WAITING.has(job.state)) {
    return h('span', { class: 'thumb', 'data-thumb': job.thumbnail_url },
      pageImage(job.thumbnail_url, '', { loading: 'lazy', width: 56, height: 72 }));
  }
  return h('span', { class: 'thumb', 'aria-hidden': 'true' }, WAITING.has(job.state) ? '…' : 'No preview');
}

function jobItem(job) {
  const meta = [
    job.pages ? `${job.pages} page${job.pages === 1 ? '' : 's'}` : null,
    formatTime(job.created_at),
    job.size_bytes ? formatBytes(job.size_bytes) : null,
    job.print_now ? 'print now' : null,
  ].filter(Boolean).join(' · ');
  const printer = job.printer_id && state.printers.get(job.printer_id);
  const reason = (job.state === 'failed' || job.state === 'rejected' || heldAgain(job)) && job.state_reason;
  const li = h('li', { class: 'job', id: 'job-' + job.id, 'data-state': job.state },
    h('button', { type: 'button', class: 'job-open', onclick: () => sheet.openJob(state.jobs.get(job.id)) },
      thumbOf(job),
      h('span', { class: 'job-text' },
        h('span', { class: 'job-title' }, job.title || 'Untitled'),
        h('span', { class: 'job-meta' }, pillOf(job), ' ', meta,
          printer && !WAITING.has(job.state) && job.state !== 'held' ? ` · ${printer.name}` : ''),
        reason ? h('span', { class: 'job-reason' }, reason) : null)));
  return li;
}

// Puts the job's item in place (new, or replacing the old one: the thumbnail is kept when
// its URL did not change, so it is not fetched again).
function renderJob(job) {
  const old = document.getElementById('job-' + job.id);
  const item = jobItem(job);
  if (old) {
    const oldThumb = old.querySelector('.thumb[data-thumb]');
    const newThumb = item.querySelector('.thumb[data-thumb]');
    if (oldThumb && newThumb && oldThumb.dataset.thumb === newThumb.dataset.thumb) newThumb.replaceWith(oldThumb);
    old.replaceWith(item);
    return;
  }
  const list = $('#jobs');
  const after = sortedJobs();
  const index = after.findIndex((j) => j.id === job.id);
  const next = after.slice(index + 1).map((j) => document.getElementById('job-' + j.id)).find(Boolean);
  list.insertBefore(item, next || null);
}

function renderEmpty() {
  $('#jobs-empty').hidden = state.jobs.size > 0 || $('#uploads').childElementCount > 0;
}

// A job changed (from the event stream, a poll, or our own call).
function jobChanged(job) {
  const before = state.jobs.get(job.id);
  state.jobs.set(job.id, job);
  renderJob(job);
  renderEmpty();
  sheet.update(job);
  if (before && (before.state !== job.state || before.state_reason !== job.state_reason)) notify(before, job);
  schedulePoll();
}

function jobGone(id) {
  state.jobs.delete(id);
  const item = document.getElementById('job-' + id);
  if (item) item.remove();
  sheet.gone(id);
  renderEmpty();
}

// The visible notice when a job has printed or failed.
function notify(before, job) {
  const title = `“${job.title || 'Your document'}”`;
  const printer = job.printer_id && state.printers.get(job.printer_id);
  const at = printer ? ` at ${printer.name}${printer.location ? ' (' + printer.location + ')' : ''}` : '';
  if (job.state === 'completed') {
    toast(`Printed: ${title}${at}. Collect your pages.`, 'ok', 10000);
  } else if (job.state === 'failed') {
    toast(`Not printed: ${title}${job.state_reason ? ' — ' + job.state_reason : ''}. Open it and print it at another printer, or ask your print administrator.`, 'error');
  } else if (job.state === 'rejected') {
    toast(`${title} cannot be printed${job.state_reason ? ': ' + job.state_reason : ''}. Save it as PDF and upload it again.`, 'error');
  } else if (heldAgain(job)) {
    toast(`Not printed: ${title}. ${job.state_reason}`, 'error');
  }
}

async function loadJobs(more = false) {
  try {
    const q = '/jobs?limit=50' + (more && state.cursor ? '&cursor=' + encodeURIComponent(state.cursor) : '');
    const page = await api.get(q);
    if (!more) {
      const seen = new Set((page.jobs || []).map((j) => j.id));
      for (const id of [...state.jobs.keys()]) if (!seen.has(id) && !state.cursor) jobGone(id);
    }
    for (const job of page.jobs || []) jobChanged(job);
    if (!more || page.next_cursor !== undefined) state.cursor = page.next_cursor || null;
    $('#jobs-more').hidden = !state.cursor;
    $('#jobs-notice').hidden = true;
    renderEmpty();
    knowPrinters();
  } catch (err) {
    if (err.status === 401) return app.onAuthLost();
    const box = $('#jobs-notice');
    box.textContent = 'Your documents could not be listed. ' + explain(err);
    box.hidden = false;
  }
}

// Printer names for the notices and the list (ids only come with a job).
async function knowPrinters() {
  const want = [...state.jobs.values()].some((j) => j.printer_id && !state.printers.has(j.printer_id));
  if (!want) return;
  try {
    for (const p of await app.pickers.list()) state.printers.set(p.id, p);
    for (const job of state.jobs.values()) if (job.printer_id) renderJob(job);
  } catch (_) {
    // names are a nicety
  }
}

// ---------------------------------------------------------------- live state

function openEvents() {
  closeEvents();
  if (!('EventSource' in window)) return schedulePoll();
  const es = new EventSource('/api/v1/events');
  state.events = es;
  es.addEventListener('open', () => {
    if (state.eventsFailed) loadJobs(); // reconnected: what changed meanwhile
    state.eventsFailed = 0;
  });
  es.addEventListener('job', (e) => {
    try { jobChanged(JSON.parse(e.data)); } catch (_) { /* a malformed event: ignored */ }
  });
  es.addEventListener('job_deleted', (e) => {
    try { jobGone(JSON.parse(e.data).id); } catch (_) { /* ignored */ }
  });
  es.addEventListener('error', () => {
    state.eventsFailed += 1;
    schedulePoll();
    if (es.readyState === EventSource.CLOSED && state.events === es) {
      // Refused (signed out, or too many streams): check, then try again later.
      state.events = null;
      setTimeout(async () => {
        if (!state.me) return;
        try {
          await api.get('/me');
          openEvents();
        } catch (err) {
          if (err.status === 401) app.onAuthLost();
          else setTimeout(openEvents, 10000);
        }
      }, Math.min(30000, 2000 * state.eventsFailed));
    }
  });
}

function closeEvents() {
  if (state.events) state.events.close();
  state.events = null;
  clearTimeout(state.pollTimer);
  state.pollTimer = 0;
}

// Without a working event stream, jobs on their way are polled every few seconds.
function schedulePoll() {
  if (state.pollTimer || !state.me) return;
  const streaming = state.events && state.events.readyState === EventSource.OPEN;
  const busyJobs = [...state.jobs.values()].some((j) => ACTIVE.has(j.state));
  if (streaming || !busyJobs) return;
  state.pollTimer = setTimeout(async () => {
    state.pollTimer = 0;
    if (!state.me) return;
    await loadJobs();
    schedulePoll();
  }, 3000);
}

// ---------------------------------------------------------------- uploads

function uploadRow(name, label) {
  const bar = h('progress', { max: 100, value: 0, 'aria-label': `${label} ${name}` });
  const row = h('li', {}, h('span', { class: 'name' }, name), h('span', { class: 'muted small pct' }, label), bar);
  $('#uploads').append(row);
  renderEmpty();
  return {
    progress(sent, total) {
      const pct = total ? Math.round((sent / total) * 100) : 0;
      bar.value = pct;
      row.querySelector('.pct').textContent = pct < 100 ? `${pct} %` : 'Processing…';
    },
    fail(message) {
      bar.remove();
      row.querySelector('.pct').textContent = 'Failed';
      row.append(h('p', { class: 'failed small', role: 'alert' }, message),
        h('button', { type: 'button', class: 'btn-link', onclick: () => { row.remove(); renderEmpty(); } }, 'Dismiss'));
    },
    done() { row.remove(); renderEmpty(); },
  };
}

function uploadError(err) {
  if (err.status === 413) return 'This file is larger than the server takes. Make it smaller or split it, then try again.';
  if (err.status === 415) return 'This kind of file cannot be printed. Save it as PDF and upload that.';
  return explain(err);
}

async function uploadFile(file, path = '/jobs', extra = {}) {
  const row = uploadRow(file.name || 'document', path === '/jobs' ? 'Uploading' : 'Sending');
  const form = new FormData();
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  form.append('file', file, file.name || 'document');
  try {
    const job = await api.upload(path, form, (sent, total) => row.progress(sent, total));
    row.done();
    jobChanged(job);
    const item = document.getElementById('job-' + job.id);
    if (item) item.classList.add('fresh');
    return job;
  } catch (err) {
    if (err.status === 401) { row.done(); app.onAuthLost(); return null; }
    row.fail(uploadError(err));
    return null;
  }
}

async function uploadFiles(files) {
  const list = [...files];
  let ok = 0;
  for (const file of list) if (await uploadFile(file)) ok += 1;
  if (ok) toast(ok === 1 ? 'Uploaded. Tap it to preview and print.' : `${ok} files uploaded. Tap one to preview and print.`, 'ok');
}

async function printNow(file, printer, options) {
  state.printers.set(printer.id, printer);
  remember(printer);
  const job = await uploadFile(file, '/print-now', { printer: String(printer.id), options: JSON.stringify(options) });
  if (job) toast(`Sent to ${printer.name}: it prints as soon as it is ready.`, 'ok');
}

// ---------------------------------------------------------------- release, delete, options

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Releases a job; one still being prepared is waited for first (up to 3 minutes).
// status(text) tells the sheet what is happening. Resolves true when released.
async function release(job, printer, options, status) {
  const deadline = Date.now() + 180000;
  let current = state.jobs.get(job.id) || job;
  while (WAITING.has(current.state)) {
    status('Still preparing the pages: it is sent to the printer as soon as they are ready…');
    if (Date.now() > deadline) throw new ApiError(0, 'timeout', 'The document is taking long to prepare. Try again in a minute.');
    await sleep(1500);
    current = await api.get(`/jobs/${job.id}`);
    jobChanged(current);
  }
  if (current.state !== 'held') {
    status(stateSentence(current));
    toast('This document was already sent or has ended; upload it again to print it once more.', 'warn');
    return false;
  }
  status('Sending to the printer…');
  const answer = await api.post(`/jobs/${job.id}/release`, { printer: printer.id, options });
  state.printers.set(printer.id, printer);
  remember(printer);
  if (answer.job) jobChanged(answer.job);
  toast(`Sent to ${printer.name}.` + (answer.warning ? ` The printer reports: ${answer.warning}. It prints once that is fixed.` : ''), answer.warning ? 'warn' : 'ok');
  return true;
}

async function remove(job) {
  await api.del(`/jobs/${job.id}`);
  jobGone(job.id);
  toast(`Deleted “${job.title || 'document'}”.`, 'ok');
}

async function saveOptions(job, options) {
  try {
    const answer = await api.patch(`/jobs/${job.id}`, { options });
    if (answer && answer.id) jobChanged(answer);
    toast('Options saved: they apply when you print it, here or at the printer.', '', 4000);
  } catch (err) {
    if (err.status === 401) return app.onAuthLost();
    if (err.status !== 409) toast('The options were not saved. ' + explain(err), 'error');
  }
}

// ---------------------------------------------------------------- files shared from other apps

// Files shared (Web Share Target) while signed out wait in the cache until sign-in.
async function uploadShared() {
  if (!('caches' in window)) return;
  let cache;
  try {
    if (!(await caches.has(SHARE_CACHE))) return;
    cache = await caches.open(SHARE_CACHE);
  } catch (_) {
    return;
  }
  const keys = await cache.keys();
  let ok = 0;
  for (const key of keys) {
    const response = await cache.match(key);
    if (!response) continue;
    const name = decodeURIComponent(response.headers.get('X-Filename') || 'shared document');
    const blob = await response.blob();
    const job = await uploadFile(new File([blob], name, { type: blob.type }));
    if (!state.me) return; // signed out meanwhile: keep the rest
    await cache.delete(key);
    if (job) ok += 1;
  }
  await caches.delete(SHARE_CACHE);
  if (ok) toast(`${ok} shared file${ok === 1 ? '' : 's'} added to your documents.`, 'ok');
}

// sw.js sends people here with ?shared=N (uploaded) or ?shared=signin (kept for later); the
// server with ?shared=retry when the share arrived before the service worker was running.
function sharedNotice() {
  const params = new URLSearchParams(location.search);
  const shared = params.get('shared');
  if (shared === null) return;
  history.replaceState(null, '', location.pathname);
  if (shared === 'retry') {
    toast('The shared file did not arrive: the app was still starting. Share it again.', 'error');
    return;
  }
  const n = Number.parseInt(shared, 10);
  if (n > 0) toast(`${n} shared file${n === 1 ? '' : 's'} added to your documents.`, 'ok');
  const failed = Number.parseInt(params.get('failed') || '0', 10);
  if (failed > 0) toast(`${failed} shared file${failed === 1 ? ' was' : 's were'} not accepted. Open the file in its app, save it as PDF and share that.`, 'error');
}

// ---------------------------------------------------------------- start

function wireDropzone() {
  const zone = $('#view-jobs');
  const pad = $('#dropzone');
  let depth = 0;
  zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth += 1; pad.classList.add('over'); });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
  zone.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) pad.classList.remove('over'); });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    pad.classList.remove('over');
    if (e.dataTransfer && e.dataTransfer.files.length) uploadFiles(e.dataTransfer.files);
  });
}

function wire() {
  $('#signin-form').addEventListener('submit', signIn);
  $('#enrol-form').addEventListener('submit', enrol);
  $('#signout').addEventListener('click', signOut);
  $('#add-btn').addEventListener('click', () => $('#file-add').click());
  $('#now-btn').addEventListener('click', () => $('#file-now').click());
  $('#file-add').addEventListener('change', (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    if (files.length) uploadFiles(files);
  });
  $('#file-now').addEventListener('change', (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) sheet.openFile(file);
  });
  $('#jobs-more').addEventListener('click', () => loadJobs(true));
  wireDropzone();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.me && !state.events) openEvents();
  });
}

// The service worker (sw.js) receives files shared from other apps. It is registered once
// someone has signed in: a page that only shows the sign-in needs none.
function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {
    // Without it the portal works; only sharing from other apps needs it.
  });
}

async function start() {
  wire();
  let hint = false;
  try { hint = localStorage.getItem(SIGNED_IN_HINT) === '1'; } catch (_) { /* private mode */ }
  const optionsCall = api.get('/login-options').catch(() => ({ modes: ['email_code'], enrolment: true }));
  let me = null;
  if (hint) {
    try {
      me = (await api.get('/me')).user;
    } catch (err) {
      if (err.status !== 401) {
        $('#loading').textContent = explain(err);
      }
    }
  }
  state.loginOptions = await optionsCall;
  buildSignIn(state.loginOptions);
  if (me) {
    await signedIn(me);
  } else {
    signedOut('');
    if (new URLSearchParams(location.search).get('shared') === 'signin') {
      history.replaceState(null, '', location.pathname);
      const box = $('#signin-error');
      box.className = 'notice notice-warn';
      box.textContent = 'Sign in to add the files you shared: they are kept on this device until then.';
      box.hidden = false;
    }
  }
}

start();
