// page-dashboard.js - what the server is doing now, refreshed every 5 seconds: queue sizes by
// state, conversions running, printers and their state, recent failures with their reasons,
// mail intake and directory imports.

import { api } from './api.js';
import { h, clear, when, table, row, say, message } from './dom.js';
import { badge } from './ui.js';

const REFRESH_MS = 5000;
const STATES = ['received', 'converting', 'held', 'releasing', 'printing', 'completed',
  'failed', 'canceled', 'expired', 'rejected'];

function card(title, ...body) {
  return h('section', { className: 'card' }, h('h2', { text: title }), body);
}

function draw(box, data) {
  const jobs = data.jobs || {};
  const names = [...STATES.filter((s) => s in jobs), ...Object.keys(jobs).filter((s) => !STATES.includes(s))];
  const queue = h('dl', { className: 'counts', id: 'queue-counts' },
    names.map((s) => h('div', { className: 'count', dataset: { state: s, zero: String(Number(jobs[s]) === 0) } },
      h('dt', { text: s }), h('dd', { text: String(jobs[s]) }))));
  const conversions = h('p', { className: 'big', id: 'conversions-running',
    text: String(data.conversions_running ?? 0) });
  const printers = (data.printers || []).length === 0
    ? h('p', { text: 'No printers yet. Add one under Printers.' })
    : table(['Printer', 'State', 'Reasons', 'Checked'], (data.printers || []).map((p) =>
      row([p.name, badge(p.state), (p.reasons || []).join(', ') || '—', when(p.checked_at)])),
    { id: 'dashboard-printers' });
  const failures = (data.recent_failures || []).length === 0
    ? h('p', { text: 'No failures recently.' })
    : table(['Job', 'User', 'Document', 'State', 'Reason', 'When'],
      data.recent_failures.map((f) => row([String(f.job_id), f.user, f.name, badge(f.state),
        f.reason || '—', when(f.at)])), { id: 'dashboard-failures' });
  const mail = (data.mail || []).length === 0
    ? h('p', { text: 'No mail accounts are set up.' })
    : table(['Account', 'Last poll', 'Last error'], data.mail.map((m) =>
      row([m.account, when(m.last_poll_at), m.last_error || 'none'])));
  const directory = (data.directory || []).length === 0
    ? h('p', { text: 'No directory is set up.' })
    : table(['Directory', 'State', 'Last import', 'Last error'], data.directory.map((d) =>
      row([d.name, badge(d.state), when(d.last_import_at), d.last_error || 'none'])));
  clear(box).append(
    card('Jobs by state', queue),
    card('Conversions running', conversions),
    card('Printers', printers),
    card('Recent failures', failures),
    card('Mail intake', mail),
    card('Directory', directory));
}

export function render(main) {
  const updated = h('span', { className: 'hint', id: 'dashboard-updated' });
  const note = message();
  const box = h('div', { className: 'grid', id: 'dashboard' });
  main.append(h('div', { className: 'page-head' }, h('h1', { text: 'Dashboard' }), updated), note, box);
  let stopped = false;
  let timer = null;
  const load = async () => {
    try {
      const data = await api('GET', 'dashboard');
      if (stopped) return;
      draw(box, data);
      say(note, '');
      updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
    } catch (err) {
      if (!stopped) say(note, err.message, 'error');
    }
    if (!stopped) timer = setTimeout(load, REFRESH_MS);
  };
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
