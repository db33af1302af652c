// sheet.js - the job sheet: a job's page previews, its print options, the printer, and the
// Print and Delete buttons. The same sheet, without preview and Delete, asks for the options
// and printer of a "print now" file before it is uploaded.
import { h, $, $$ } from '../common/dom.js';
import { explain } from '../common/api.js';
import { describe } from './printers.js';

export const WAITING = new Set(['incoming', 'received', 'converting']);
const PAGES_RE = /^\d+(-\d*)?(,\d+(-\d*)?)*$/;

// An <img> for a page image that may not be rendered yet (the server answers 202 and the
// browser cannot decode that): it asks again a few times, then shows the alt text.
export function pageImage(url, alt, attrs = {}) {
  let tries = 0;
  const img = h('img', { src: url, alt, decoding: 'async', ...attrs });
  img.addEventListener('error', () => {
    tries += 1;
    if (tries > 15) return;
    setTimeout(() => { img.src = url + '?try=' + tries; }, Math.min(500 * tries, 3000));
  });
  return img;
}

export class JobSheet {
  // app: { api, pickers, onAuthLost, release(job, printer, options, status), remove(job),
  //        printNow(file, printer, options), jobById(id) }
  constructor(app) {
    this.app = app;
    this.dialog = $('#job-sheet');
    this.form = $('#options-form');
    this.mode = 'job';
    this.job = null;
    this.file = null;
    this.printer = null;
    this.loadedOptions = null;
    this.deleteArmed = 0;
    this.dialog.querySelector('[data-close]').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => this.closed());
    $('#copies-down').addEventListener('click', () => this.step(-1));
    $('#copies-up').addEventListener('click', () => this.step(1));
    $('#printer-change').addEventListener('click', () => this.pickPrinter());
    $('#job-print').addEventListener('click', () => this.print());
    $('#job-delete').addEventListener('click', () => this.remove());
    this.form.addEventListener('change', () => this.checkCaps());
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.print(); });
  }

  step(delta) {
    const input = $('#opt-copies');
    const n = Math.min(999, Math.max(1, (Number.parseInt(input.value, 10) || 1) + delta));
    input.value = String(n);
  }

  // Opens the sheet for a job of the list.
  async openJob(job) {
    this.mode = 'job';
    this.job = job;
    this.file = null;
    this.reset(job.title || 'Document');
    $('#job-delete').hidden = false;
    $('#job-print').textContent = 'Print';
    this.showStatus();
    this.dialog.showModal();
    $('#job-print').focus();
    await Promise.all([this.loadDetail(), this.loadPrinter()]);
  }

  // Opens the sheet for a file to print at once (not uploaded yet).
  async openFile(file) {
    this.mode = 'now';
    this.job = null;
    this.file = file;
    this.reset(file.name);
    $('#job-delete').hidden = true;
    $('#job-print').hidden = false;
    $('#options-form').hidden = false;
    $('#job-print').textContent = 'Print now';
    $('#job-status').textContent = 'Choose the options and the printer: the file prints as soon as it is uploaded and ready.';
    this.setOptions({});
    this.dialog.showModal();
    $('#opt-copies').focus();
    await this.loadPrinter();
  }

  reset(title) {
    $('#job-title').textContent = title;
    $('#job-error').hidden = true;
    $('#job-preview').replaceChildren();
    $('#job-preview').hidden = true;
    this.loadedOptions = null;
    this.disarmDelete();
  }

  // Shows what the job is doing; called again when the list learns of a change.
  showStatus() {
    if (this.mode !== 'job' || !this.job) return;
    const job = this.job;
    const parts = [stateSentence(job)];
    if (job.pages) {
      parts.push(`${job.pages} page${job.pages === 1 ? '' : 's'}` +
        (job.color_pages ? ` (${job.color_pages} in colour)` : ''));
    }
    $('#job-status').textContent = parts.join(' · ');
    const printable = job.state === 'held' || WAITING.has(job.state);
    $('#job-print').hidden = !printable;
    $('#options-form').hidden = !printable;
    $('#job-delete').hidden = job.state === 'releasing' || job.state === 'printing';
  }

  // The list saw a change of job: refresh what the sheet shows of it.
  update(job) {
    if (this.mode !== 'job' || !this.job || !this.dialog.open || job.id !== this.job.id) return;
    const was = this.job.state;
    this.job = job;
    this.showStatus();
    if (WAITING.has(was) && !WAITING.has(job.state)) this.loadDetail();
  }

  gone(id) {
    if (this.mode === 'job' && this.job && this.job.id === id && this.dialog.open) this.dialog.close();
  }

  async loadDetail() {
    const job = this.job;
    let detail;
    try {
      detail = await this.app.api.get(`/jobs/${job.id}`);
    } catch (err) {
      if (err.status === 401) { this.dialog.close(); this.app.onAuthLost(); return; }
      this.error(explain(err));
      return;
    }
    if (this.job !== job && (!this.job || this.job.id !== job.id)) return;
    if (!this.loadedOptions) this.setOptions(detail.options || {});
    this.loadedOptions = this.readOptions();
    const pages = detail.pages_detail || [];
    const box = $('#job-preview');
    if (pages.length && !box.childElementCount) {
      box.replaceChildren(...pages.map((p) => h('figure', {},
        pageImage(p.preview_url, `Page ${p.number} of ${pages.length}`, { loading: p.number <= 2 ? 'eager' : 'lazy' }),
        h('figcaption', {}, `Page ${p.number} of ${pages.length}` + (p.color ? ' · colour' : '')))));
      box.hidden = false;
    }
  }

  async loadPrinter() {
    if (!this.printer) {
      try {
        this.printer = await this.app.pickers.preferred();
      } catch (err) {
        if (err.status === 401) { this.dialog.close(); this.app.onAuthLost(); return; }
        this.error(explain(err));
      }
    }
    this.showPrinter();
  }

  showPrinter() {
    $('#printer-name').textContent = this.printer ? this.printer.name : 'No printer chosen';
    $('#printer-detail').textContent = this.printer ? describe(this.printer)
      : 'Choose the printer you will collect the pages from.';
    $('#printer-change').textContent = this.printer ? 'Change…' : 'Choose…';
    this.checkCaps();
  }

  async pickPrinter() {
    const chosen = await this.app.pickers.open(this.printer);
    if (chosen) this.printer = chosen;
    this.showPrinter();
    $('#printer-change').focus();
  }

  setOptions(o) {
    $('#opt-copies').value = String(o.copies || 1);
    $('#opt-sides').value = o.sides || 'one-sided';
    const color = o.color_mode || 'auto';
    for (const r of $$('input[name="color_mode"]', this.form)) r.checked = r.value === color;
    $('#opt-nup').value = String(o.number_up || 1);
    $('#opt-staple').value = o.staple || 'none';
    $('#opt-pages').value = o.page_ranges || '';
    $('#opt-pages').removeAttribute('aria-invalid');
  }

  readOptions() {
    const checked = this.form.querySelector('input[name="color_mode"]:checked');
    return {
      copies: Number.parseInt($('#opt-copies').value, 10),
      sides: $('#opt-sides').value,
      color_mode: checked ? checked.value : 'auto',
      number_up: Number.parseInt($('#opt-nup').value, 10),
      staple: $('#opt-staple').value,
      page_ranges: $('#opt-pages').value.replace(/\s+/g, ''),
    };
  }

  // The options, or null after saying what to correct.
  validOptions() {
    const o = this.readOptions();
    if (!Number.isInteger(o.copies) || o.copies < 1 || o.copies > 999) {
      this.error('Copies must be a number from 1 to 999.', '#opt-copies');
      return null;
    }
    if (o.page_ranges && !PAGES_RE.test(o.page_ranges)) {
      $('#opt-pages').setAttribute('aria-invalid', 'true');
      this.error('Pages: write page numbers and ranges like 1-3,5 — or leave it empty for all pages.', '#opt-pages');
      return null;
    }
    $('#opt-pages').removeAttribute('aria-invalid');
    return o;
  }

  // Tells what the chosen printer cannot do with these options.
  checkCaps() {
    const hint = $('#caps-hint');
    const caps = (this.printer && this.printer.capabilities) || null;
    if (!caps) { hint.hidden = true; return; }
    const o = this.readOptions();
    const notes = [];
    if (o.sides !== 'one-sided' && caps.duplex === false) notes.push('prints on one side only');
    if (o.color_mode === 'color' && caps.color === false) notes.push('prints in black & white only');
    if (o.staple !== 'none' && caps.staple === false) notes.push('cannot staple');
    hint.textContent = notes.length ? `${this.printer.name} ${notes.join(', ')}. Choose another printer, or print without it.` : '';
    hint.hidden = notes.length === 0;
  }

  error(message, focusSelector) {
    const box = $('#job-error');
    box.textContent = message;
    box.hidden = false;
    if (focusSelector) $(focusSelector).focus();
    else box.focus();
  }

  async print() {
    $('#job-error').hidden = true;
    const options = this.validOptions();
    if (!options) return;
    if (!this.printer) {
      await this.pickPrinter();
      if (!this.printer) {
        this.error('Choose a printer first: the one you will collect the pages from.');
        return;
      }
    }
    const button = $('#job-print');
    button.disabled = true;
    try {
      if (this.mode === 'now') {
        const file = this.file;
        this.file = null;
        this.dialog.close();
        await this.app.printNow(file, this.printer, options);
      } else {
        const ok = await this.app.release(this.job, this.printer, options, (text) => {
          $('#job-status').textContent = text;
        });
        if (ok) {
          this.loadedOptions = null;
          this.dialog.close();
        }
      }
    } catch (err) {
      if (err.status === 401) { this.dialog.close(); this.app.onAuthLost(); return; }
      this.error(explain(err));
    } finally {
      button.disabled = false;
    }
  }

  disarmDelete() {
    this.deleteArmed = 0;
    $('#job-delete').textContent = 'Delete';
  }

  // Two taps: the first asks, the second (within 5 s) deletes.
  async remove() {
    const button = $('#job-delete');
    if (!this.deleteArmed || Date.now() - this.deleteArmed > 5000) {
      this.deleteArmed = Date.now();
      button.textContent = 'Tap again to delete';
      return;
    }
    this.disarmDelete();
    button.disabled = true;
    try {
      await this.app.remove(this.job);
      this.dialog.close();
    } catch (err) {
      if (err.status === 401) { this.dialog.close(); this.app.onAuthLost(); return; }
      this.error(explain(err));
    } finally {
      button.disabled = false;
    }
  }

  // Closing a held job's sheet keeps changed options (so they also apply at the panel).
  closed() {
    const job = this.job;
    const before = this.loadedOptions;
    this.loadedOptions = null;
    this.disarmDelete();
    if (this.mode !== 'job' || !job || !before || job.state !== 'held') return;
    const now = this.readOptions();
    if (JSON.stringify(now) === JSON.stringify(before)) return;
    if (!Number.isInteger(now.copies) || now.copies < 1 || now.copies > 999) return;
    if (now.page_ranges && !PAGES_RE.test(now.page_ranges)) return;
    this.app.saveOptions(job, now);
  }
}

// A sentence for a job's state.
export function stateSentence(job) {
  switch (job.state) {
    case 'incoming': case 'received': return 'Received; preparing it…';
    case 'converting': return 'Preparing the pages…';
    case 'held': return job.state_reason ? `Not printed: ${job.state_reason}` : 'Ready to print';
    case 'releasing': return 'Sending to the printer…';
    case 'printing': return 'Printing…';
    case 'completed': return 'Printed';
    case 'failed': return 'Could not be printed' + (job.state_reason ? `: ${job.state_reason}` : '');
    case 'rejected': return 'Not a document this service can print' + (job.state_reason ? `: ${job.state_reason}` : '');
    case 'canceled': return 'Canceled';
    case 'expired': return 'Expired (not printed in time)';
    default: return job.state;
  }
}
