// ui.js - pieces the pages share: write buttons that a help-desk account does not get, an
// action runner that shows the server's answer, and pagination.

import { isReadOnly } from './api.js';
import { h, say } from './dom.js';

// A button for a change. Help desk: hidden by the stylesheet and disabled (the server refuses
// the write anyway).
export function writeButton(text, onclick, attrs = {}) {
  const className = 'write' + (attrs.className ? ' ' + attrs.className : '');
  return h('button', { type: 'button', ...attrs, className, text, onclick,
    disabled: isReadOnly() || attrs.disabled });
}

// Runs fn() with button disabled; shows the error's message (the server's) in note.
// Returns fn's result or undefined on failure.
export async function run(button, note, fn, doneText) {
  if (button) button.disabled = true;
  try {
    const result = await fn();
    if (note && doneText) say(note, doneText, 'ok');
    return result;
  } catch (err) {
    if (note) say(note, err.message, 'error');
    return undefined;
  } finally {
    if (button) button.disabled = isReadOnly() && button.classList.contains('write');
  }
}

// "Showing 1–50 of 120" with Previous / Next; onPage(offset) loads another page.
export function pager(total, offset, limit, onPage) {
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return h('div', { className: 'pager' },
    h('span', { text: `${first}–${last} of ${total}` }),
    h('button', { type: 'button', text: 'Previous', disabled: offset <= 0,
      onclick: () => onPage(Math.max(0, offset - limit)) }),
    h('button', { type: 'button', text: 'Next', disabled: last >= total,
      onclick: () => onPage(offset + limit) }));
}

// A state word as a coloured badge (colours in admin.css by data-state).
export function badge(state) {
  return h('span', { className: 'badge', dataset: { state: String(state || 'unknown') },
    text: String(state || 'unknown') });
}
