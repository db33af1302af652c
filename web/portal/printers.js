// printers.js - the printer picker: search (by name, alias, place), recent printers first,
// each with its place and status. Recent printer ids are remembered in localStorage
// (the portal only; a panel keeps nothing).
import { h, $ } from '../common/dom.js';
import { explain } from '../common/api.js';

const RECENT_KEY = 'pp.portal.recentPrinters';
const RECENT_MAX = 5;

const STATUS_WORDS = {
  idle: ['Ready', 'pill-ok'],
  processing: ['Busy', ''],
  stopped: ['Stopped', 'pill-warn'],
  offline: ['Offline', 'pill-error'],
  unknown: ['Status unknown', ''],
};

export function recentIds() {
  try {
    const ids = JSON.parse(localStorage.getItem(RECENT_KEY) || '[]');
    return Array.isArray(ids) ? ids.filter((x) => Number.isInteger(x)) : [];
  } catch (_) {
    return [];
  }
}

export function remember(printer) {
  if (!printer) return;
  const ids = [printer.id, ...recentIds().filter((x) => x !== printer.id)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(ids));
  } catch (_) {
    // storage full or off: the picker works without it
  }
}

// "Ready", "Offline · out of paper" and a pill class, for a printer's status.
export function statusOf(printer) {
  const st = (printer && printer.status) || {};
  const [word, cls] = STATUS_WORDS[st.state] || STATUS_WORDS.unknown;
  return { word, cls, warning: st.warning || '' };
}

export function describe(printer) {
  if (!printer) return '';
  const s = statusOf(printer);
  return [printer.location, s.word, s.warning].filter(Boolean).join(' · ');
}

export class PrinterPicker {
  constructor(api, onAuthLost) {
    this.api = api;
    this.onAuthLost = onAuthLost;
    this.dialog = $('#printer-sheet');
    this.search = $('#printer-search');
    this.all = null; // every printer (first load), for the recent list and the default
    this.resolve = null;
    this.current = null;
    this.timer = 0;
    this.seq = 0;
    this.dialog.querySelector('[data-close]').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => this.finish(null));
    this.search.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refresh(), 250);
    });
  }

  // Every enabled printer (cached after the first call). Throws ApiError.
  async list() {
    if (!this.all) {
      const out = [];
      let cursor = null;
      do {
        const q = '/printers?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
        const page = await this.api.get(q);
        out.push(...(page.printers || []));
        cursor = page.next_cursor;
      } while (cursor && out.length < 1000);
      this.all = out;
    }
    return this.all;
  }

  forget() {
    this.all = null;
  }

  // The printer to offer first: the latest recent one that still exists, or the only one.
  async preferred() {
    const all = await this.list();
    for (const id of recentIds()) {
      const p = all.find((x) => x.id === id);
      if (p) return p;
    }
    return all.length === 1 ? all[0] : null;
  }

  // Opens the picker; resolves to the chosen printer, or null when closed without a choice.
  open(current) {
    this.current = current || null;
    this.search.value = '';
    $('#printer-error').hidden = true;
    this.dialog.showModal();
    this.search.focus();
    this.refresh();
    return new Promise((resolve) => { this.resolve = resolve; });
  }

  finish(printer) {
    const resolve = this.resolve;
    this.resolve = null;
    if (resolve) resolve(printer);
  }

  choose(printer) {
    remember(printer);
    this.finish(printer);
    this.dialog.close();
  }

  async refresh() {
    const seq = ++this.seq;
    const q = this.search.value.trim();
    let found;
    try {
      const all = await this.list();
      found = q ? (await this.api.get('/printers?limit=100&q=' + encodeURIComponent(q))).printers || [] : all;
    } catch (err) {
      if (err.status === 401) { this.dialog.close(); this.onAuthLost(); return; }
      const box = $('#printer-error');
      box.textContent = explain(err);
      box.hidden = false;
      return;
    }
    if (seq !== this.seq) return; // a newer search is on its way
    $('#printer-error').hidden = true;
    const recent = q ? [] : recentIds().map((id) => this.all.find((p) => p.id === id)).filter(Boolean);
    const rest = found.filter((p) => !recent.includes(p));
    this.fill($('#printers-recent'), recent);
    $('#printers-recent').hidden = recent.length === 0;
    $('#printers-recent-title').hidden = recent.length === 0;
    this.fill($('#printers-all'), rest);
    $('#printers-all-title').textContent = recent.length ? 'Other printers' : 'Printers';
    $('#printers-all-title').hidden = rest.length === 0 && recent.length > 0;
    $('#printers-empty').hidden = found.length > 0;
  }

  fill(list, printers) {
    list.replaceChildren(...printers.map((p) => {
      const s = statusOf(p);
      const caps = p.capabilities || {};
      const features = [caps.color ? 'Colour' : 'Black & white', caps.duplex ? 'Two-sided' : null,
        caps.staple ? 'Staples' : null].filter(Boolean).join(', ');
      return h('li', {},
        h('button', {
          type: 'button',
          'aria-pressed': this.current && this.current.id === p.id ? 'true' : 'false',
          'data-printer-id': String(p.id),
          onclick: () => this.choose(p),
        },
        h('span', { class: 'p-name' }, p.name + (p.alias && p.alias.toLowerCase() !== p.name.toLowerCase() ? ` (${p.alias})` : '')),
        h('span', { class: 'p-line' },
          h('span', { class: 'pill ' + s.cls }, s.word),
          p.location ? h('span', {}, p.location) : null,
          s.warning ? h('span', {}, s.warning) : null),
        h('span', { class: 'p-line' }, features)));
    }));
  }
}
