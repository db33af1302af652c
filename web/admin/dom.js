// dom.js - small helpers that build the page with DOM calls only: text goes in through
// textContent / text nodes, never through innerHTML, so data from the server cannot become
// markup.

// h('button', {className: 'x', onclick: fn, type: 'button'}, 'Save', child, …): a new element.
// Attributes: className, text (textContent), on<event> (listener), dataset keys as data-*,
// booleans as properties (disabled, hidden, checked), everything else setAttribute.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (['disabled', 'hidden', 'checked', 'required', 'selected', 'multiple'].includes(key)) {
      el[key] = Boolean(value);
    } else if (key === 'value') el.value = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

// Appends children (strings become text nodes; arrays are flattened; null is skipped).
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// "2026-05-01 14:03" in local time from unix seconds; "—" for none.
export function when(unix) {
  if (unix === null || unix === undefined || unix === '' || Number(unix) <= 0) return '—';
  const d = new Date(Number(unix) * 1000);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}`;
}

// Unix seconds of a <input type="date"> value at local midnight (end=true: the next
// midnight, so "to 2026-05-01" includes that day); '' when empty.
export function dateToUnix(value, end = false) {
  if (!value) return '';
  const [y, m, d] = value.split('-').map(Number);
  const t = new Date(y, m - 1, d + (end ? 1 : 0));
  return String(Math.floor(t.getTime() / 1000));
}

// A labelled form field: <label>Text <input></label> in a .field div.
export function field(labelText, control, hint) {
  const id = control.id || 'f-' + Math.random().toString(36).slice(2, 10);
  control.id = id;
  return h('div', { className: 'field' },
    h('label', { for: id, text: labelText }), control,
    hint ? h('span', { className: 'hint', text: hint }) : null);
}

// A table from column titles and rows of cells (strings or nodes), wrapped so it scrolls
// sideways on a phone.
export function table(columns, rows, attrs = {}) {
  const thead = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: c }))));
  const tbody = h('tbody', {}, rows);
  return h('div', { className: 'table-wrap' }, h('table', attrs, thead, tbody));
}

export function row(cells, attrs = {}) {
  return h('tr', attrs, cells.map((c) => h('td', {}, c)));
}

// A status line that says what happened; kind: 'ok' | 'error' | ''.
export function say(el, text, kind = '') {
  el.textContent = text || '';
  el.className = 'message' + (kind ? ' ' + kind : '');
  if (kind === 'error') el.setAttribute('role', 'alert');
  else el.setAttribute('role', 'status');
}

export function message() {
  return h('p', { className: 'message', role: 'status' });
}

// Asks with the page's <dialog id="confirm">; resolves true when OK is pressed.
export function confirmAction(text, okLabel = 'OK') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  ok.textContent = okLabel;
  return new Promise((resolve) => {
    const finish = (answer) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onOk = () => finish(true);
    const onCancel = () => finish(false);
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    cancel.focus();
  });
}
