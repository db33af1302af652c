// page-audit.js - the audit log of admin actions, newest first: search, filter by actor and
// date, CSV export of what the filter selects.

import { api, href } from './api.js';
import { h, clear, field, say, message, when, table, dateToUnix } from './dom.js';
import { pager } from './ui.js';

const LIMIT = 100;

export function render(main) {
  const note = message();
  const list = h('div', { id: 'audit-list' });
  const q = h('input', { type: 'search', name: 'q', placeholder: 'action, object or detail' });
  const actor = h('input', { type: 'search', name: 'actor', placeholder: 'admin name' });
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  const csv = h('a', { className: 'button', id: 'audit-csv', download: 'pullprint-audit.csv', text: 'Export CSV' });
  let offset = 0;

  async function load() {
    const params = { q: q.value.trim(), actor: actor.value.trim(), from: dateToUnix(from.value), to: dateToUnix(to.value, true) };
    csv.href = href('audit', { ...params, format: 'csv' });
    try {
      const data = await api('GET', 'audit', undefined, { ...params, limit: LIMIT, offset });
      const items = data.items || [];
      clear(list).append(items.length === 0 ? h('p', { text: 'No entry matches.' }) :
        table(['When', 'Admin', 'Action', 'Object', 'Detail'], items.map((e) => h('tr', {},
          h('td', { text: when(e.at) }), h('td', { text: e.actor }), h('td', { text: e.action }),
          h('td', { text: e.object || '—' }), h('td', { className: 'detail', text: e.detail || '' }))), { id: 'audit-table' }),
        pager(data.total || 0, offset, LIMIT, (o) => { offset = o; load(); }));
    } catch (err) {
      say(note, err.message, 'error');
    }
  }

  const filters = h('form', { className: 'filters', role: 'search' }, field('Search', q), field('Admin', actor),
    field('From', from), field('To', to), h('button', { type: 'submit', text: 'Search' }), csv);
  filters.addEventListener('submit', (event) => { event.preventDefault(); offset = 0; load(); });
  main.append(h('h1', { text: 'Audit log' }), filters, note, list);
  load();
}
