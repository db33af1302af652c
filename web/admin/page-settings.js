// page-settings.js - every runtime setting as a form control chosen by its type (int: a
// number within the allowed range, enum: a list, string: text), saved one at a time with the
// server's refusal shown beside the field; the company code; mail accounts with a connection
// test; the TLS certificate.

import { api } from './api.js';
import { h, clear, field, say, message, confirmAction, when, table, row } from './dom.js';
import { writeButton, run } from './ui.js';

// "1..720" → [1, 720]; anything else → null.
function range(allowed) {
  const m = /^(-?\d+)\.\.(-?\d+)$/.exec(String(allowed || '').trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function control(item) {
  const id = 'setting-' + item.name.replace(/[^a-z0-9]+/gi, '-');
  if (item.type === 'enum') {
    const words = String(item.allowed || '').split('|').map((w) => w.trim()).filter(Boolean);
    if (!words.includes(item.value)) words.unshift(item.value);
    return h('select', { id, name: item.name },
      words.map((w) => h('option', { value: w, text: w, selected: w === item.value })));
  }
  if (item.type === 'int') {
    const r = range(item.allowed);
    return h('input', { id, name: item.name, type: 'number', step: '1', inputmode: 'numeric',
      min: r ? r[0] : undefined, max: r ? r[1] : undefined, value: item.value });
  }
  return h('input', { id, name: item.name, type: 'text', value: item.value, spellcheck: 'false' });
}

function settingRow(item) {
  const input = control(item);
  const note = h('span', { className: 'message', role: 'status' });
  const description = item.description ? item.description.replace(/\.?\s*$/, '.') : '';
  const hint = [description, `Allowed: ${item.allowed || 'any text'}.`,
    `Default: ${item.default === '' ? '(empty)' : item.default}.`].filter(Boolean).join(' ');
  const save = writeButton('Save', async () => {
    const saved = await run(save, note, () => api('PUT', 'settings/' + encodeURIComponent(item.name),
      { value: input.value }));
    if (saved) {
      item.value = saved.value;
      input.value = saved.value;
      say(note, 'Saved.', 'ok');
    }
  }, { dataset: { setting: item.name } });
  input.addEventListener('input', () => say(note, ''));
  if (input.tagName === 'INPUT') {
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !save.disabled) {
        event.preventDefault();
        save.click();
      }
    });
  }
  return h('div', { className: 'setting', dataset: { setting: item.name } },
    h('label', { for: input.id, className: 'setting-name', text: item.name }),
    h('div', { className: 'setting-control' }, input, save, note),
    h('p', { className: 'hint', text: hint }));
}

async function loadSettings(box, note) {
  try {
    const data = await api('GET', 'settings', undefined, { limit: 500 });
    const groups = new Map();
    for (const item of data.items || []) {
      const group = item.name.split('.')[0];
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push(item);
    }
    clear(box);
    for (const [group, items] of groups) {
      box.append(h('fieldset', { className: 'card settings-group' },
        h('legend', { text: group }), items.map(settingRow)));
    }
  } catch (err) {
    say(note, err.message, 'error');
  }
}

function companyCode() {
  const code = h('code', { className: 'company-code', id: 'company-code', text: '…' });
  const note = message();
  const regenerate = writeButton('Regenerate', async () => {
    const sure = await confirmAction('Make a new company code? Portals and apps that have not ' +
      'enrolled yet will need the new code; enrolled ones keep working.', 'Regenerate');
    if (!sure) return;
    const data = await run(regenerate, note, () => api('POST', 'company-code/regenerate'));
    if (data) {
      code.textContent = data.code;
      say(note, 'A new company code is in use.', 'ok');
    }
  }, { id: 'company-code-regenerate' });
  api('GET', 'company-code').then((d) => { code.textContent = d.code; },
    (err) => say(note, err.message, 'error'));
  return h('section', { className: 'card', id: 'company' }, h('h2', { text: 'Company code' }),
    h('p', { className: 'hint', text: 'People type this code in the portal or app to enrol against this server.' }),
    h('p', {}, code, ' ', regenerate), note);
}

function mailAccounts() {
  const box = h('div', {});
  const note = message();
  api('GET', 'mail-accounts').then((data) => {
    const items = data.items || [];
    if (items.length === 0) {
      box.append(h('p', { text: 'No mail accounts. Add them in the configuration file (see docs/email.md).' }));
      return;
    }
    box.append(table(['Account', 'Protocol', 'Server', 'User', 'Poll every', 'On', 'Last poll', 'Last error', 'Test'],
      items.map((a) => {
        const answer = h('pre', { className: 'answer', hidden: true });
        const test = h('button', { type: 'button', text: 'Test connection', onclick: async () => {
          test.disabled = true;
          answer.hidden = false;
          answer.textContent = 'Connecting…';
          try {
            const r = await api('POST', `mail-accounts/${encodeURIComponent(a.name)}/test`);
            answer.className = 'answer ' + (r.ok ? 'ok' : 'error');
            answer.textContent = (r.ok ? 'Connected. ' : 'Failed. ') + 'The server answered:\n' + (r.answer || '(nothing)');
          } catch (err) {
            answer.className = 'answer error';
            answer.textContent = err.message;
          }
          test.disabled = false;
        } });
        return row([a.name, a.protocol, `${a.host}:${a.port}`, a.user, `${a.poll_interval_s} s`,
          a.enabled ? 'yes' : 'no', when(a.last_poll_at), a.last_error || 'none',
          h('div', {}, test, answer)]);
      })));
  }, (err) => say(note, err.message, 'error'));
  return h('section', { className: 'card', id: 'mail-accounts' }, h('h2', { text: 'Mail accounts' }), box, note);
}

function tlsUpload() {
  const cert = h('textarea', { rows: 6, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----', id: 'tls-cert' });
  const key = h('textarea', { rows: 6, spellcheck: 'false', placeholder: '-----BEGIN PRIVATE KEY-----', id: 'tls-key' });
  const fileFor = (area, label) => h('input', { type: 'file', 'aria-label': label, accept: '.pem,.crt,.key,.cer,text/plain',
    onchange: async (event) => {
      const file = event.target.files[0];
      if (file) area.value = await file.text();
    } });
  const note = message();
  const result = h('dl', { className: 'facts', hidden: true });
  const upload = writeButton('Install certificate', async () => {
    const data = await run(upload, note, () => api('POST', 'tls',
      { certificate_pem: cert.value, key_pem: key.value }));
    if (!data) return;
    key.value = '';
    clear(result).append(
      h('dt', { text: 'Subject' }), h('dd', { text: data.subject }),
      h('dt', { text: 'Valid until' }), h('dd', { text: typeof data.not_after === 'number' ? when(data.not_after) : String(data.not_after) }),
      h('dt', { text: 'SHA-256 fingerprint' }), h('dd', { className: 'mono', text: data.fingerprint_sha256 }));
    result.hidden = false;
    say(note, data.restart_needed ? 'Installed. Restart pullprintd to use it.' : 'Installed.', 'ok');
  });
  return h('section', { className: 'card', id: 'tls' }, h('h2', { text: 'TLS certificate' }),
    h('p', { className: 'hint', text: 'Paste the certificate chain and its private key (PEM), or pick the files.' }),
    field('Certificate (PEM)', cert), fileFor(cert, 'Certificate file'),
    field('Private key (PEM)', key), fileFor(key, 'Private key file'),
    h('p', {}, upload), note, result);
}

export function render(main) {
  const note = message();
  const box = h('div', { id: 'settings' });
  main.append(h('h1', { text: 'Settings' }), note, companyCode(), box, mailAccounts(), tlsUpload());
  loadSettings(box, note);
}
