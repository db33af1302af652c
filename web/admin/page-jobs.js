// page-jobs.js - jobs: search by user, printer, state and date; cancel, delete, reprint to a
// chosen printer; the reason of each failure.

import { api } from './api.js';
import { h, clear, field, say, message, confirmAction, when, table, dateToUnix } from './dom.js';
import { writeButton, run, badge, pager } from './ui.js';

const LIMIT = 50;
const STATES = ['received', 'converting', 'held', 'releasing', 'printing', 'completed',
  'failed', 'canceled', 'expired', 'rejected'];
const CANCELABLE = new Set(['received', 'converting', 'held', 'releasing', 'printing']);

export function render(main) {
  const note = message();
  const list = h('div', { id: 'job-list' });
  const user = h('input', { type: 'search', name: 'user', placeholder: 'address' });
  const printer = h('input', { type: 'search', name: 'printer', placeholder: 'printer name' });
  const state = h('select', { name: 'state' }, h('option', { value: '', text: 'any state' }),
    STATES.map((s) => h('option', { value: s, text: s })));
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  let offset = 0;
  let printers = [];

  function actions(j) {
    const buttons = [];
    if (CANCELABLE.has(j.state)) {
      const cancel = writeButton('Cancel', async () => {
        if (await run(cancel, note, () => api('POST', `jobs/${j.id}/cancel`))) {
          say(note, `Job ${j.id} is canceled.`, 'ok');
          await load();
        }
      });
      buttons.push(cancel);
    }
    const target = h('select', { 'aria-label': `Printer for job ${j.id}`, className: 'write' },
      printers.map((p) => h('option', { value: String(p.id), text: p.name })));
    const reprint = writeButton('Reprint', async () => {
      if (!target.value) { say(note, 'Add a printer first.', 'error'); return; }
      const r = await run(reprint, note, () => api('POST', `jobs/${j.id}/reprint`, { printer_id: Number(target.value) }));
      if (r) {
        say(note, `Job ${j.id} is sent to ${target.selectedOptions[0].textContent}.`, 'ok');
        await load();
      }
    });
    buttons.push(h('span', { className: 'inline' }, target, reprint));
    const del = writeButton('Delete', async () => {
      if (!await confirmAction(`Delete job ${j.id} (${j.name}) of ${j.user}?`, 'Delete')) return;
      if (await run(del, note, () => api('DELETE', `jobs/${j.id}`)) !== undefined) {
        say(note, `Job ${j.id} was deleted.`, 'ok');
        await load();
      }
    }, { className: 'danger' });
    buttons.push(del);
    return h('div', { className: 'row-actions' }, buttons);
  }

  async function load() {
    try {
      const data = await api('GET', 'jobs', undefined, {
        user: user.value.trim(), printer: printer.value.trim(), state: state.value,
        from: dateToUnix(from.value), to: dateToUnix(to.value, true), limit: LIMIT, offset });
      const items = data.items || [];
      clear(list).append(items.length === 0 ? h('p', { text: 'No job matches.' }) :
        table(['Job', 'User', 'Document', 'State', 'Reason', 'Source', 'Pages', 'Printer', 'Submitted', ''],
          items.map((j) => h('tr', { dataset: { job: String(j.id) } },
            h('td', { className: 'num', text: String(j.id) }), h('td', { text: j.user }),
            h('td', { text: j.name }), h('td', {}, badge(j.state)),
            h('td', { className: j.reason ? 'reason' : '', text: j.reason || '—' }),
            h('td', { text: j.source || '—' }),
            h('td', { className: 'num', text: `${j.pages ?? '—'}${j.colour_pages ? ` (${j.colour_pages} colour)` : ''}` }),
            h('td', { text: j.printer || '—' }), h('td', { text: when(j.created_at) }),
            h('td', {}, actions(j)))), { id: 'jobs-table' }),
        pager(data.total || 0, offset, LIMIT, (o) => { offset = o; load(); }));
    } catch (err) {
      say(note, err.message, 'error');
    }
  }

  const filters = h('form', { className: 'filters', role: 'search' }, field('User', user), field('Printer', printer),
    field('State', state), field('From', from), field('To', to), h('button', { type: 'submit', text: 'Search' }));
  filters.addEventListener('submit', (event) => { event.preventDefault(); offset = 0; load(); });

  main.append(h('h1', { text: 'Jobs' }), filters, note, list);
  api('GET', 'printers', undefined, { limit: 500 }).then((d) => { printers = d.items || []; },
    () => {}).finally(load);
}
