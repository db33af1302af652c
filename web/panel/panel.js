// panel.js - the printer panel: people sign in at the printer and release their held jobs to it.
//
// The admin installs https://SERVER/panel/?t=ppk_… on the printer's browser; the token names
// the printer and goes with every API call as X-Panel-Token. Sign-in makes a cookie session
// (HttpOnly: this script never sees it); changes carry X-Requested-With: pullprint.
//
// Nothing about a user is kept: no localStorage, sessionStorage, IndexedDB or cookies of our
// own; the user's data lives only in this page's variables and DOM. Signing out (the button,
// inactivity, leaving the page) revokes the session, empties the job list and replaces the
// page with a fresh sign-in page (location.replace: the back button has nothing to show), and
// a page restored from the back/forward cache reloads itself.
'use strict';

(() => {
  const API = '/api/v1';
  const STATE_WORDS = {
    idle: 'Ready', processing: 'Printing', stopped: 'Stopped', offline: 'Offline',
    unknown: 'Status unknown',
  };
  const REASON_WORDS = {
    'media-empty': 'out of paper', 'media-jam': 'paper jam', 'door-open': 'door open',
    'toner-empty': 'out of toner', 'toner-low': 'toner low', 'marker-supply-empty': 'out of toner',
    'offline': 'offline', 'cover-open': 'cover open',
  };
  const MODE_WORDS = { code: 'Code', email_code: 'Email + code', directory: 'Company sign-in' };

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const panelToken = params.get('t') || params.get('token') || '';

  // Everything the page knows; user data is dropped on sign-out.
  const state = {
    panel: null,          // GET /panel answer
    mode: 'code',
    code: '',
    busy: false,
    waitUntil: 0,         // throttled: no sign-in before this (ms)
    waitTimer: 0,
    user: null,
    jobs: [],
    selected: new Set(),
    options: { copies: 1, sides: '', color_mode: '' },
    capabilities: null,
    lastActivity: Date.now(),
    idleTimer: 0,
    signingOut: false,
    preview: null,        // { job, pages, index }
    noticeTimer: 0,
  };

  // ---------------------------------------------------------------- API

  // fetch() of one API call; resolves { status, data, retryAfter } or { status: 0 } when the
  // server cannot be reached.
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (panelToken) headers['X-Panel-Token'] = panelToken;
    if (method !== 'GET' && method !== 'HEAD') headers['X-Requested-With'] = 'pullprint';
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (err) {
      return { status: 0, data: null, retryAfter: 0 };
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (err) { data = null; }
    }
    const retry = parseInt(response.headers.get('Retry-After') || '0', 10);
    return { status: response.status, data, retryAfter: Number.isFinite(retry) ? retry : 0 };
  }

  function errorMessage(answer, fallback) {
    if (answer.status === 0) {
      return 'The print server cannot be reached. Check the network cable or Wi-Fi of this ' +
        'printer, then try again.';
    }
    const err = answer.data && answer.data.error;
    return (err && err.message) || fallback;
  }

  // ---------------------------------------------------------------- screens

  function show(screen) {
    for (const id of ['screen-loading', 'screen-setup', 'screen-signin', 'screen-jobs']) {
      $(id).hidden = id !== screen;
    }
  }

  function notice(text, kind) {
    const el = $('notice');
    el.textContent = text;
    el.className = 'panel-notice' + (kind ? ' notice-' + kind : '');
    el.hidden = false;
    clearTimeout(state.noticeTimer);
    state.noticeTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 9000 : 6000);
  }

  function setupProblem(text) {
    $('setup-message').textContent = text;
    show('screen-setup');
  }

  // ---------------------------------------------------------------- the printer

  async function loadPanel() {
    if (!panelToken) {
      setupProblem('Open the panel address your administrator made for this printer ' +
        '(pullprint printers panel-token PRINTER prints it): it ends in ?t=ppk_….');
      return;
    }
    show('screen-loading');
    const answer = await api('GET', '/panel');
    if (answer.status !== 200 || !answer.data || !answer.data.printer) {
      if (answer.status === 401) {
        setupProblem('The panel address of this printer is not valid any more. Ask your ' +
          'administrator for the current one (pullprint printers panel-token PRINTER).');
      } else {
        setupProblem(errorMessage(answer, 'The print server did not answer as expected.') +
          ' Touch “Try again” in a moment.');
      }
      return;
    }
    state.panel = answer.data;
    showPrinter(answer.data.printer);
    setupSignin();
    show('screen-signin');
  }

  function showPrinter(printer) {
    $('printer-name').textContent = printer.name || printer.alias || 'Printer';
    $('printer-location').textContent = printer.location || '';
    document.title = (printer.name || 'Printer') + ' · Pullprint';
    const el = $('printer-state');
    // The printer's status: {"status":{"state","reasons","warning"}} or flat state/reasons.
    const status = printer.status || printer;
    const pstate = status.state || '';
    const reasons = (status.reasons || []).filter((r) => r && r !== 'none');
    const word = STATE_WORDS[pstate] || pstate;
    const extra = reasons.map((r) => REASON_WORDS[r.replace(/-(report|warning|error)$/, '')] ||
      r.replace(/-(report|warning|error)$/, '').replace(/-/g, ' '));
    el.textContent = [word].concat(extra).filter(Boolean).join(' · ');
    el.className = 'printer-state' + (pstate === 'stopped' || pstate === 'offline'
      ? ' state-down' : extra.length ? ' state-warn' : '');
    el.hidden = !el.textContent;
  }

  // While nobody is signed in, the printer's state and the admin's settings are asked for
  // again every minute (a half-typed code is left alone).
  async function refreshPanel() {
    if (state.user || state.busy || $('screen-signin').hidden) return;
    const typed = state.code || $('email').value || $('login').value || $('password').value;
    if (typed) return;
    const answer = await api('GET', '/panel');
    if (state.user || answer.status !== 200 || !answer.data || !answer.data.printer) return;
    const before = JSON.stringify(state.panel.signin);
    state.panel = answer.data;
    showPrinter(answer.data.printer);
    if (JSON.stringify(answer.data.signin) !== before) setupSignin();
  }

  // ---------------------------------------------------------------- sign-in

  function setupSignin() {
    const signin = state.panel.signin || {};
    let modes = (signin.modes || []).filter((m) => MODE_WORDS[m]);
    if (modes.length === 0) modes = ['email_code'];
    const tabs = $('modes');
    tabs.replaceChildren();
    for (const mode of modes) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'mode';
      b.setAttribute('role', 'tab');
      b.dataset.mode = mode;
      b.textContent = MODE_WORDS[mode];
      b.addEventListener('click', () => selectMode(mode));
      tabs.appendChild(b);
    }
    tabs.hidden = modes.length < 2;
    selectMode(modes[0]);
  }

  function selectMode(mode) {
    state.mode = mode;
    for (const b of $('modes').children) {
      b.setAttribute('aria-selected', String(b.dataset.mode === mode));
    }
    const usesCode = mode !== 'directory';
    $('field-email').hidden = mode !== 'email_code';
    $('field-login').hidden = mode !== 'directory';
    $('field-password').hidden = mode !== 'directory';
    $('field-code').hidden = !usesCode;
    $('signin-form').classList.toggle('no-keypad', !usesCode);
    $('signin-prompt').textContent = mode === 'code'
      ? 'Enter your code to see your documents.'
      : mode === 'email_code'
        ? 'Enter your email address and your code.'
        : 'Sign in with your company user name and password.';
    clearSigninFields();
    if (mode === 'email_code') $('email').focus();
    else if (mode === 'directory') $('login').focus();
  }

  function clearSigninFields() {
    state.code = '';
    $('email').value = '';
    $('login').value = '';
    $('password').value = '';
    renderCode();
    signinError('');
  }

  function codeLength() {
    const n = state.panel && state.panel.signin && state.panel.signin.code_length;
    return Number.isInteger(n) && n > 0 && n <= 32 ? n : 6;
  }

  function hideCode() {
    return Boolean(state.panel && state.panel.signin && state.panel.signin.hide_code);
  }

  function renderCode() {
    const display = $('code-display');
    const slots = Math.max(codeLength(), state.code.length);
    const frag = document.createDocumentFragment();
    for (let i = 0; i < slots; i++) {
      const s = document.createElement('span');
      const filled = i < state.code.length;
      s.className = 'code-slot' + (filled ? ' filled' : '');
      s.textContent = filled ? (hideCode() ? '•' : state.code[i]) : '\u00a0';
      frag.appendChild(s);
    }
    display.replaceChildren(frag);
    display.setAttribute('aria-label', state.code.length + ' of ' + codeLength() + ' digits');
  }

  function signinError(text) {
    const el = $('signin-error');
    el.textContent = text;
    el.hidden = !text;
  }

  function keypadPress(key) {
    if (state.busy) return;
    if (key === 'clear') state.code = '';
    else if (key === 'back') state.code = state.code.slice(0, -1);
    else if (/^[0-9]$/.test(key) && state.code.length < 32) state.code += key;
    renderCode();
    if (/^[0-9]$/.test(key)) signinError('');
    // The code alone: sign in as soon as it is complete.
    if (state.mode === 'code' && /^[0-9]$/.test(key) && state.code.length === codeLength()) {
      submitSignin();
    }
  }

  function signinBody() {
    const body = { session: 'cookie' };
    if (state.mode === 'code') {
      body.code = state.code;
    } else if (state.mode === 'email_code') {
      body.email = $('email').value.trim();
      body.code = state.code;
    } else {
      body.login = $('login').value.trim();
      body.password = $('password').value;
    }
    return body;
  }

  function signinIncomplete() {
    if (state.mode === 'email_code' && !$('email').value.trim()) {
      return 'Enter your email address first.';
    }
    if (state.mode !== 'directory' && state.code.length === 0) return 'Enter your code.';
    if (state.mode === 'directory' && !$('login').value.trim()) return 'Enter your user name.';
    if (state.mode === 'directory' && !$('password').value) return 'Enter your password.';
    return '';
  }

  async function submitSignin() {
    if (state.busy) return;
    const waiting = Math.ceil((state.waitUntil - Date.now()) / 1000);
    if (waiting > 0) {
      signinError(`Too many wrong tries. Wait ${waiting} s, then try again.`);
      return;
    }
    const missing = signinIncomplete();
    if (missing) { signinError(missing); return; }
    state.busy = true;
    $('signin-submit').disabled = true;
    signinError('');
    const answer = await api('POST', '/login', signinBody());
    state.busy = false;
    $('signin-submit').disabled = false;
    // The secret leaves the page as soon as it was sent.
    state.code = '';
    $('password').value = '';
    renderCode();
    if (answer.status === 200 && answer.data && answer.data.user) {
      await startSession(answer.data.user);
      return;
    }
    signinFailed(answer);
  }

  function signinFailed(answer) {
    const code = answer.data && answer.data.error && answer.data.error.code;
    if (answer.status === 429) {
      const seconds = Math.max(1, answer.retryAfter || 1);
      startWait(seconds);
      return;
    }
    if (answer.status === 401 && code === 'panel_token') {
      setupProblem('The panel address of this printer is not valid any more. Ask your ' +
        'administrator for the current one.');
      return;
    }
    if (answer.status === 401) {
      signinError(state.mode === 'directory'
        ? 'That user name or password is not right. Check them and try again.'
        : state.mode === 'email_code'
          ? 'That email address or code is not right. Check them and try again.'
          : 'That code is not right. Check it and try again. Your code is in the mail you ' +
            'got from the print server.');
      return;
    }
    signinError(errorMessage(answer, 'Signing in did not work. Try again.'));
  }

  // Throttled: counts down the wait the server asked for, then allows signing in again.
  function startWait(seconds) {
    state.waitUntil = Date.now() + seconds * 1000;
    clearInterval(state.waitTimer);
    const tick = () => {
      const left = Math.ceil((state.waitUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(state.waitTimer);
        $('signin-submit').disabled = false;
        signinError('');
        return;
      }
      $('signin-submit').disabled = true;
      signinError(`Too many wrong tries. Wait ${left} s, then try again.`);
    };
    tick();
    state.waitTimer = setInterval(tick, 250);
  }

  // ---------------------------------------------------------------- the session

  async function startSession(user) {
    state.user = user;
    state.selected.clear();
    state.options = { copies: 1, sides: '', color_mode: '' };
    const name = user.display_name || user.email || '';
    $('user-name').textContent = name;
    $('user-name').hidden = !name;
    $('signout').hidden = false;
    $('email').value = '';
    $('login').value = '';
    show('screen-jobs');
    renderOptionsSummary();
    touch();
    startIdleTimer();
    loadCapabilities();
    await loadJobs();
  }

  // Signs out and replaces the page with a fresh one; nothing of the user remains.
  async function signOut(reason) {
    if (state.signingOut) return;
    state.signingOut = true;
    stopIdleTimer();
    forgetUser();
    if (reason === 'idle') $('notice').hidden = true;
    const done = api('POST', '/logout');
    const timeout = new Promise((resolve) => setTimeout(resolve, 2000));
    await Promise.race([done, timeout]);
    location.replace(location.pathname + location.search);
  }

  // Drops every trace of the user from the page: data, DOM, overlays.
  function forgetUser() {
    state.user = null;
    state.jobs = [];
    state.selected.clear();
    state.preview = null;
    $('job-list').replaceChildren();
    $('user-name').textContent = '';
    $('user-name').hidden = true;
    $('signout').hidden = true;
    $('preview-image').removeAttribute('src');
    $('preview-title').textContent = '';
    $('preview').hidden = true;
    $('options-sheet').hidden = true;
    $('confirm').hidden = true;
    $('confirm-text').textContent = '';
    $('idle-warning').hidden = true;
    $('notice').textContent = '';
    $('email').value = '';
    $('login').value = '';
    $('password').value = '';
    state.code = '';
    show('screen-loading');
  }

  // A call answered 401 while signed in: the session ended on the server.
  function sessionEnded(answer) {
    if (answer.status === 401 && state.user) {
      signOut('expired');
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- inactivity

  function idleTimeout() {
    const s = state.panel && state.panel.idle_timeout_s;
    return (Number.isFinite(s) && s > 0 ? s : 60) * 1000;
  }

  function touch() {
    state.lastActivity = Date.now();
    if (!$('idle-warning').hidden) $('idle-warning').hidden = true;
  }

  function startIdleTimer() {
    stopIdleTimer();
    state.idleTimer = setInterval(checkIdle, 250);
  }

  function stopIdleTimer() {
    clearInterval(state.idleTimer);
    state.idleTimer = 0;
  }

  // The warning shows in the last 10 s (a third of a short timeout).
  function checkIdle() {
    const limit = idleTimeout();
    const left = limit - (Date.now() - state.lastActivity);
    const warnAt = Math.min(10000, limit / 3);
    if (left <= 0) {
      signOut('idle');
      return;
    }
    const warning = $('idle-warning');
    if (left <= warnAt) {
      $('idle-seconds').textContent = String(Math.ceil(left / 1000));
      warning.hidden = false;
    } else if (!warning.hidden) {
      warning.hidden = true;
    }
  }

  // On the sign-in screen, a half-typed code or address is cleared after the same time.
  function checkSigninIdle() {
    if (state.user || $('screen-signin').hidden) return;
    const typed = state.code || $('email').value || $('login').value || $('password').value;
    if (typed && Date.now() - state.lastActivity > idleTimeout()) {
      clearSigninFields();
      $('email').blur();
      $('login').blur();
      $('password').blur();
    }
  }

  // ---------------------------------------------------------------- jobs

  async function loadJobs() {
    const answer = await api('GET', '/jobs?limit=100&state=held,received,converting');
    if (!state.user) return;
    if (sessionEnded(answer)) return;
    if (answer.status !== 200 || !answer.data) {
      notice(errorMessage(answer, 'Your documents could not be listed.') +
        ' Touch Refresh to try again.', 'error');
      return;
    }
    state.jobs = answer.data.jobs || [];
    const ids = new Set(state.jobs.map((j) => j.id));
    for (const id of Array.from(state.selected)) {
      if (!ids.has(id)) state.selected.delete(id);
    }
    renderJobs();
  }

  function jobMeta(job) {
    const parts = [];
    if (job.state === 'held') {
      if (job.pages) parts.push(job.pages === 1 ? '1 page' : job.pages + ' pages');
      if (job.color_pages) parts.push('colour');
    }
    if (job.created_at) parts.push(timeWords(job.created_at));
    return parts.join(' · ');
  }

  function timeWords(unix) {
    const d = new Date(unix * 1000);
    const now = new Date();
    const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    if (d.toDateString() === now.toDateString()) return 'today ' + hm;
    return d.toLocaleDateString([], { day: 'numeric', month: 'short' }) + ' ' + hm;
  }

  function renderJobs() {
    const frag = document.createDocumentFragment();
    for (const job of state.jobs) frag.appendChild(jobItem(job));
    $('job-list').replaceChildren(frag);
    $('jobs-empty').hidden = state.jobs.length > 0;
    $('job-list').hidden = state.jobs.length === 0;
    renderSelection();
  }

  function jobItem(job) {
    const held = job.state === 'held';
    const li = document.createElement('li');
    li.className = 'job' + (held ? '' : ' unavailable');
    li.dataset.id = job.id;
    li.setAttribute('role', 'checkbox');
    li.tabIndex = 0;
    const tick = document.createElement('span');
    tick.className = 'tick';
    tick.textContent = '✓';
    li.appendChild(tick);
    if (job.thumbnail_url && held) {
      const img = document.createElement('img');
      img.className = 'thumb';
      img.alt = '';
      img.loading = 'lazy';
      img.decoding = 'async';
      img.width = 48;
      img.height = 64;
      img.addEventListener('error', () => { img.style.visibility = 'hidden'; }, { once: true });
      img.src = job.thumbnail_url;
      li.appendChild(img);
    } else {
      const none = document.createElement('span');
      none.className = 'thumb thumb-none';
      none.textContent = held ? '' : '…';
      li.appendChild(none);
    }
    const text = document.createElement('span');
    text.className = 'job-text';
    const title = document.createElement('span');
    title.className = 'job-title';
    title.textContent = job.title || 'Untitled';
    const meta = document.createElement('span');
    meta.className = 'job-meta';
    meta.textContent = jobMeta(job);
    if (!held) {
      const st = document.createElement('span');
      st.className = 'job-state';
      st.textContent = (meta.textContent ? ' · ' : '') + 'being prepared, not ready yet';
      meta.appendChild(st);
    }
    text.append(title, meta);
    li.appendChild(text);
    if (held && job.pages) {
      const view = document.createElement('button');
      view.type = 'button';
      view.className = 'btn btn-view';
      view.textContent = 'Preview';
      view.dataset.preview = job.id;
      li.appendChild(view);
    }
    return li;
  }

  function selectableJobs() {
    return state.jobs.filter((j) => j.state === 'held');
  }

  function toggleJob(id) {
    const job = state.jobs.find((j) => j.id === id);
    if (!job || job.state !== 'held') return;
    if (state.selected.has(id)) state.selected.delete(id);
    else state.selected.add(id);
    renderSelection();
  }

  function renderSelection() {
    for (const li of $('job-list').children) {
      const on = state.selected.has(li.dataset.id);
      li.classList.toggle('selected', on);
      li.setAttribute('aria-checked', String(on));
    }
    const n = state.selected.size;
    const all = selectableJobs();
    $('selected-count').textContent = all.length === 0 ? ''
      : n === 0 ? 'Touch the documents to print'
        : n === 1 ? '1 selected' : n + ' selected';
    $('select-all').textContent = n > 0 && n === all.length ? 'Select none' : 'Select all';
    $('select-all').disabled = all.length === 0;
    $('print').disabled = n === 0;
    $('delete').disabled = n === 0;
    $('print').textContent = n > 1 ? `Print ${n}` : 'Print';
  }

  function selectAll() {
    const all = selectableJobs();
    if (state.selected.size === all.length) state.selected.clear();
    else for (const j of all) state.selected.add(j.id);
    renderSelection();
  }

  // ---------------------------------------------------------------- options

  function applyCapabilities(caps) {
    state.capabilities = caps;
    $('row-color').hidden = caps.color === false;
    $('row-sides').hidden = caps.duplex === false;
  }

  async function loadCapabilities() {
    const printer = state.panel.printer;
    if (printer.capabilities) {
      applyCapabilities(printer.capabilities);
      return;
    }
    const answer = await api('GET', '/printers?limit=100&q=' + encodeURIComponent(printer.name));
    if (answer.status !== 200 || !answer.data || !state.user) return;
    const match = (answer.data.printers || []).find((p) => p.id === printer.id);
    if (match && match.capabilities) applyCapabilities(match.capabilities);
  }

  function renderOptions() {
    $('copies').textContent = String(state.options.copies);
    $('copies-less').disabled = state.options.copies <= 1;
    $('copies-more').disabled = state.options.copies >= 99;
    for (const group of document.querySelectorAll('.choices')) {
      const value = state.options[group.dataset.option] || '';
      for (const b of group.children) b.setAttribute('aria-pressed', String(b.dataset.value === value));
    }
    renderOptionsSummary();
  }

  function renderOptionsSummary() {
    const o = state.options;
    const parts = [];
    if (o.copies > 1) parts.push(o.copies + ' copies');
    if (o.sides === 'one-sided') parts.push('one-sided');
    if (o.sides === 'two-sided-long-edge') parts.push('two-sided');
    if (o.color_mode === 'color') parts.push('colour');
    if (o.color_mode === 'monochrome') parts.push('black & white');
    $('options-summary').textContent = parts.length ? parts.join(', ') : 'Prints as sent';
  }

  // The options the user changed here (none: each job prints as it was sent).
  function chosenOptions() {
    const o = {};
    if (state.options.copies > 1) o.copies = state.options.copies;
    if (state.options.sides) o.sides = state.options.sides;
    if (state.options.color_mode) o.color_mode = state.options.color_mode;
    return Object.keys(o).length ? o : null;
  }

  // ---------------------------------------------------------------- print, delete

  async function printSelected() {
    const ids = Array.from(state.selected);
    if (ids.length === 0 || state.busy) return;
    state.busy = true;
    $('print').disabled = true;
    $('delete').disabled = true;
    const printer = state.panel.printer;
    const options = chosenOptions();
    let sent = 0;
    let warning = '';
    const problems = [];
    for (const id of ids) {
      const body = { printer: printer.id, printer_id: printer.id };
      if (options) body.options = options;
      const answer = await api('POST', `/jobs/${encodeURIComponent(id)}/release`, body);
      if (!state.user) return;
      if (sessionEnded(answer)) return;
      if (answer.status === 200) {
        sent++;
        if (answer.data && answer.data.warning) warning = answer.data.warning;
      } else {
        const job = state.jobs.find((j) => j.id === id);
        problems.push(`${job ? job.title : 'A document'}: ` +
          errorMessage(answer, 'it could not be sent.'));
      }
    }
    state.busy = false;
    state.selected.clear();
    if (sent) {
      state.options = { copies: 1, sides: '', color_mode: '' };
      renderOptionsSummary();
    }
    const where = printer.name || 'this printer';
    if (problems.length) {
      notice((sent ? `${sent} sent to ${where}. ` : '') + problems.join(' '), 'error');
    } else {
      notice((sent === 1 ? '1 document' : sent + ' documents') + ` sent to ${where}.` +
        (warning ? ` The printer says: ${warning}.` : ' Pick them up here.'), 'ok');
    }
    await loadJobs();
  }

  function askDelete() {
    const n = state.selected.size;
    if (n === 0) return;
    $('confirm-text').textContent = n === 1
      ? 'Delete the selected document? It cannot be printed afterwards.'
      : `Delete ${n} documents? They cannot be printed afterwards.`;
    $('confirm').hidden = false;
  }

  async function deleteSelected() {
    $('confirm').hidden = true;
    const ids = Array.from(state.selected);
    if (ids.length === 0 || state.busy) return;
    state.busy = true;
    let deleted = 0;
    const problems = [];
    for (const id of ids) {
      const answer = await api('DELETE', `/jobs/${encodeURIComponent(id)}`);
      if (!state.user) return;
      if (sessionEnded(answer)) return;
      if (answer.status === 204 || answer.status === 404) deleted++;
      else problems.push(errorMessage(answer, 'A document could not be deleted.'));
    }
    state.busy = false;
    state.selected.clear();
    if (problems.length) notice(problems.join(' '), 'error');
    else notice(deleted === 1 ? '1 document deleted.' : `${deleted} documents deleted.`);
    await loadJobs();
  }

  // ---------------------------------------------------------------- preview

  async function openPreview(id) {
    const job = state.jobs.find((j) => j.id === id);
    if (!job) return;
    state.preview = { job, pages: [], index: 0, token: {} };
    $('preview-title').textContent = job.title || '';
    $('preview-image').removeAttribute('src');
    $('preview-status').textContent = 'Loading…';
    $('preview-page').textContent = '';
    $('preview').hidden = false;
    const answer = await api('GET', `/jobs/${encodeURIComponent(id)}`);
    if (!state.preview || state.preview.job !== job) return;
    if (sessionEnded(answer)) return;
    if (answer.status !== 200 || !answer.data) {
      $('preview-status').textContent = errorMessage(answer, 'The preview is not available.');
      return;
    }
    state.preview.pages = answer.data.pages_detail || [];
    showPreviewPage(0);
  }

  // Shows page index; a page not rendered yet answers 202 + Retry-After, so the image is
  // asked for first and shown once it is there.
  async function showPreviewPage(index) {
    const p = state.preview;
    if (!p || p.pages.length === 0) {
      $('preview-status').textContent = 'This document has no pages to show.';
      return;
    }
    p.index = Math.max(0, Math.min(index, p.pages.length - 1));
    const token = {};
    p.token = token;
    $('preview-page').textContent = `Page ${p.index + 1} of ${p.pages.length}`;
    $('preview-prev').disabled = p.index === 0;
    $('preview-next').disabled = p.index >= p.pages.length - 1;
    const img = $('preview-image');
    img.removeAttribute('src');
    $('preview-status').textContent = 'Loading…';
    const url = p.pages[p.index].preview_url || p.pages[p.index].thumbnail_url;
    for (let attempt = 0; attempt < 30; attempt++) {
      let response;
      try {
        response = await fetch(url, { method: 'HEAD', credentials: 'same-origin', cache: 'no-store' });
      } catch (err) {
        response = null;
      }
      if (state.preview !== p || p.token !== token) return;
      if (response && response.status === 200) break;
      if (!response || response.status !== 202) {
        $('preview-status').textContent = 'This page cannot be shown.';
        return;
      }
      const wait = parseInt(response.headers.get('Retry-After') || '1', 10) || 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 2) * 1000));
      if (state.preview !== p || p.token !== token) return;
    }
    img.onload = () => { if (state.preview === p && p.token === token) $('preview-status').textContent = ''; };
    img.onerror = () => { if (state.preview === p && p.token === token) $('preview-status').textContent = 'This page cannot be shown.'; };
    img.src = url;
  }

  function closePreview() {
    state.preview = null;
    $('preview').hidden = true;
    $('preview-image').removeAttribute('src');
    $('preview-title').textContent = '';
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    $('setup-retry').addEventListener('click', () => loadPanel());
    $('keypad').addEventListener('click', (e) => {
      const key = e.target.closest('.key');
      if (key) keypadPress(key.dataset.key);
    });
    $('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      submitSignin();
    });
    // A hardware keyboard types the code too when no text field has the focus.
    document.addEventListener('keydown', (e) => {
      if ($('screen-signin').hidden || state.mode === 'directory') return;
      const t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return;
      if (/^[0-9]$/.test(e.key)) { keypadPress(e.key); e.preventDefault(); }
      else if (e.key === 'Backspace') { keypadPress('back'); e.preventDefault(); }
      else if (e.key === 'Enter') { submitSignin(); e.preventDefault(); }
    });

    $('signout').addEventListener('click', () => signOut('button'));
    $('select-all').addEventListener('click', selectAll);
    $('refresh').addEventListener('click', () => loadJobs());
    $('job-list').addEventListener('click', (e) => {
      const view = e.target.closest('[data-preview]');
      if (view) { openPreview(view.dataset.preview); return; }
      const li = e.target.closest('.job');
      if (li) toggleJob(li.dataset.id);
    });
    $('job-list').addEventListener('keydown', (e) => {
      const li = e.target.closest('.job');
      if (li && e.target === li && (e.key === ' ' || e.key === 'Enter')) {
        toggleJob(li.dataset.id);
        e.preventDefault();
      }
    });
    $('print').addEventListener('click', printSelected);
    $('delete').addEventListener('click', askDelete);
    $('confirm-no').addEventListener('click', () => { $('confirm').hidden = true; });
    $('confirm-yes').addEventListener('click', deleteSelected);

    $('options').addEventListener('click', () => { renderOptions(); $('options-sheet').hidden = false; });
    $('options-done').addEventListener('click', () => { $('options-sheet').hidden = true; });
    $('options-reset').addEventListener('click', () => {
      state.options = { copies: 1, sides: '', color_mode: '' };
      renderOptions();
    });
    $('copies-less').addEventListener('click', () => {
      state.options.copies = Math.max(1, state.options.copies - 1);
      renderOptions();
    });
    $('copies-more').addEventListener('click', () => {
      state.options.copies = Math.min(99, state.options.copies + 1);
      renderOptions();
    });
    for (const group of document.querySelectorAll('.choices')) {
      group.addEventListener('click', (e) => {
        const b = e.target.closest('.choice');
        if (!b) return;
        state.options[group.dataset.option] = b.dataset.value;
        renderOptions();
      });
    }

    $('preview-close').addEventListener('click', closePreview);
    $('preview-prev').addEventListener('click', () => {
      if (state.preview) showPreviewPage(state.preview.index - 1);
    });
    $('preview-next').addEventListener('click', () => {
      if (state.preview) showPreviewPage(state.preview.index + 1);
    });

    // Any touch, click, key or scroll counts as activity.
    for (const type of ['pointerdown', 'touchstart', 'keydown', 'wheel', 'input']) {
      document.addEventListener(type, touch, { capture: true, passive: true });
    }
    $('job-list').addEventListener('scroll', touch, { passive: true });
    setInterval(checkSigninIdle, 1000);
    setInterval(refreshPanel, 60000);

    // Back/forward cache: a restored page may show someone's jobs; start afresh instead.
    window.addEventListener('pageshow', (e) => {
      if (e.persisted) location.reload();
    });
    // Leaving the page while signed in signs out (the request outlives the page).
    window.addEventListener('pagehide', () => {
      if (!state.user) return;
      forgetUser();
      try {
        fetch(API + '/logout', {
          method: 'POST', keepalive: true, credentials: 'same-origin',
          headers: { 'X-Requested-With': 'pullprint', 'X-Panel-Token': panelToken },
        }).catch(() => {});
      } catch (err) { /* the page is going away either way */ }
    });
  }

  wire();
  renderCode();
  loadPanel();
})();
