// page-users.js - users: search and filter by state, add, approve pending ones, disable and
// enable, issue a new code (mailed to them), delete with their jobs.

import { api } from './api.js';
import { h, clear, field, say, message, confirmAction, when, table } from './dom.js';
import { writeButton, run, badge, pager } from './ui.js';

const LIMIT = 50;

export function render(main) {
  const note = message();
  const list = h('div', { id: 'user-list' });
  const q = h('input', { type: 'search', name: 'q', placeholder: 'name or address' });
  const state = h('select', { name: 'state' },
    [['', 'any state'], ['active', 'active'], ['pending', 'pending approval'], ['disabled', 'disabled']]
      .map(([v, t]) => h('option', { value: v, text: t })));
  let offset = 0;

  function actions(u) {
    const act = (label, verb, doneText) => {
      const b = writeButton(label, async () => {
        if (await run(b, note, () => api('POST', `users/${u.id}/${verb}`))) {
          say(note, doneText, 'ok');
          await load();
        }
      });
      return b;
    };
    const buttons = [];
    if (u.state === 'pending') buttons.push(act('Approve', 'approve', `${u.email} is approved.`));
    if (u.state === 'disabled') buttons.push(act('Enable', 'enable', `${u.email} is enabled.`));
    else buttons.push(act('Disable', 'disable', `${u.email} is disabled.`));
    buttons.push(act('New code', 'new-code', `A new code was mailed to ${u.email}.`));
    const del = writeButton('Delete', async () => {
      const jobs = Number(u.jobs || 0);
      if (!await confirmAction(`Delete ${u.email} and ${jobs === 1 ? 'their 1 job' : `their ${jobs} jobs`}? This cannot be undone.`, 'Delete')) return;
      if (await run(del, note, () => api('DELETE', `users/${u.id}`)) !== undefined) {
        say(note, `${u.email} and their jobs were deleted.`, 'ok');
        await load();
      }
    }, { className: 'danger' });
    buttons.push(del);
    return h('div', { className: 'row-actions' }, buttons);
  }

  async function load() {
    try {
      const data = await api('GET', 'users', undefined, { q: q.value.trim(), state: state.value, limit: LIMIT, offset });
      const items = data.items || [];
      clear(list).append(items.length === 0 ? h('p', { text: 'No user matches.' }) :
        table(['Address', 'Name', 'Department', 'State', 'Source', 'Jobs', 'Since', ''],
          items.map((u) => h('tr', { dataset: { user: u.email } },
            h('td', { text: u.email }), h('td', { text: u.display_name || '—' }),
            h('td', { text: u.department || '—' }), h('td', {}, badge(u.state)),
            h('td', { text: u.source || 'local' }), h('td', { className: 'num', text: String(u.jobs ?? 0) }),
            h('td', { text: when(u.created_at) }), h('td', {}, actions(u)))), { id: 'users-table' }),
        pager(data.total || 0, offset, LIMIT, (o) => { offset = o; load(); }));
    } catch (err) {
      say(note, err.message, 'error');
    }
  }

  const search = h('form', { className: 'filters', role: 'search' }, field('Search', q), field('State', state),
    h('button', { type: 'submit', text: 'Search' }));
  search.addEventListener('submit', (event) => { event.preventDefault(); offset = 0; load(); });
  state.addEventListener('change', () => { offset = 0; load(); });

  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'off' });
  const display = h('input', { type: 'text', name: 'display_name', autocomplete: 'off' });
  const addNote = message();
  const addButton = h('button', { type: 'submit', className: 'write primary', text: 'Add user' });
  const add = h('form', { className: 'filters', id: 'add-user' }, field('Address', email), field('Name (optional)', display), addButton);
  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { email: email.value.trim() };
    if (display.value.trim()) body.display_name = display.value.trim();
    const u = await run(addButton, addNote, () => api('POST', 'users', body));
    if (u) {
      say(addNote, `${u.email} was added; their code was mailed to them.`, 'ok');
      email.value = '';
      display.value = '';
      await load();
    }
  });

  main.append(h('h1', { text: 'Users' }), search, note, list,
    h('section', { className: 'card write-only' }, h('h2', { text: 'Add a user' }), add, addNote));
  load();
}
