// dom.js - small DOM helpers the web apps share: element building without innerHTML (so
// nothing from the server is ever parsed as HTML), toasts in a live region, and busy buttons.

// h('button', { class: 'btn', onclick: f, 'aria-label': 'Close' }, 'text', child, ...)
// Attributes starting with "on" become event listeners; false/null/undefined are left out;
// children may be strings, nodes, arrays or null.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      node.className = value;
    } else if (key === 'text') {
      node.textContent = value;
    } else if (key in node && typeof value !== 'string') {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

// Shows a toast in the page's .toasts region (made on first use; role=status, so screen
// readers announce it; errors use role=alert). kind: 'ok' | 'error' | 'warn' | ''.
// Errors stay until dismissed; others for `ms` (default 6 s). Returns the toast element.
export function toast(message, kind = '', ms = 6000) {
  let region = document.querySelector('.toasts');
  if (!region) {
    region = h('div', { class: 'toasts' });
    document.body.append(region);
  }
  const item = h('div', {
    class: 'toast' + (kind ? ' notice-' + kind : ''),
    role: kind === 'error' ? 'alert' : 'status',
  },
  h('p', {}, message),
  h('button', { type: 'button', class: 'btn-link', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '✕'));
  region.append(item);
  // At most three at once: the oldest (errors last) make room.
  const all = [...region.children];
  while (all.length > 3) {
    const drop = all.find((t) => !t.classList.contains('notice-error')) || all[0];
    all.splice(all.indexOf(drop), 1);
    drop.remove();
  }
  if (kind !== 'error' && ms > 0) setTimeout(() => item.remove(), ms);
  return item;
}

// Runs task() with button disabled and aria-busy set; always restores it.
export async function busy(button, task) {
  const was = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await task();
  } finally {
    button.disabled = was;
    button.removeAttribute('aria-busy');
  }
}

// "3.4 MB" for a byte count.
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n}\u00a0B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1048576).toFixed(1)}\u00a0MB`;
}

// "14:05" today, "3 Mar 14:05" otherwise, from Unix seconds.
export function formatTime(unix) {
  if (!unix) return '';
  const d = new Date(unix * 1000);
  const now = new Date();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === now.toDateString()) return time;
  return d.toLocaleDateString([], { day: 'numeric', month: 'short' }) + ' ' + time;
}
