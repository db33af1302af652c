// page-printers.js - the printers: live status, add by URI or from discovery, edit,
// enable/disable, remove, a test page, and the panel URL with its QR code (an SVG made by the
// server, parsed with DOMParser and imported as nodes).

import { api, isReadOnly } from './api.js';
import { h, clear, field, say, message, confirmAction, table } from './dom.js';
import { writeButton, run, badge } from './ui.js';

const REFRESH_MS = 5000;
const FIELDS = [['name', 'Name'], ['uri', 'Device URI'], ['alias', 'Alias'],
  ['location', 'Location'], ['description', 'Description'], ['group', 'Failover group']];

// The <svg> of an SVG document text, imported into this page, or null. Elements other than
// drawing ones, and attributes that could run code or load something, are dropped.
export function importSvg(text) {
  const doc = new DOMParser().parseFromString(String(text || ''), 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.localName !== 'svg' || doc.getElementsByTagName('parsererror').length > 0) {
    return null;
  }
  const allowed = new Set(['svg', 'g', 'rect', 'path', 'title', 'desc']);
  for (const el of [...root.querySelectorAll('*')]) {
    if (!allowed.has(el.localName)) el.remove();
  }
  for (const el of [root, ...root.querySelectorAll('*')]) {
    for (const attr of [...el.attributes]) {
      const n = attr.name.toLowerCase();
      if (n.startsWith('on') || n === 'style' || n.includes('href')) el.removeAttribute(attr.name);
    }
  }
  const svg = document.importNode(root, true);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code of the panel URL');
  return svg;
}

function printerForm(initial, submitText, onSubmit, onCancel) {
  const inputs = {};
  const note = message();
  const controls = FIELDS.map(([key, label]) => {
    inputs[key] = h('input', { name: key, value: initial[key] || '', required: key === 'name' || key === 'uri',
      type: 'text', spellcheck: 'false',
      placeholder: key === 'uri' ? 'ipp://192.0.2.10/ipp/print' : undefined });
    return field(label, inputs[key]);
  });
  const submit = h('button', { type: 'submit', text: submitText, className: 'write primary', disabled: isReadOnly() });
  const form = h('form', { className: 'printer-form' }, h('div', { className: 'fields' }, controls),
    h('div', { className: 'actions' }, submit,
      onCancel ? h('button', { type: 'button', text: 'Cancel', onclick: onCancel }) : null), note);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    for (const [key] of FIELDS) body[key] = inputs[key].value.trim();
    await run(submit, note, () => onSubmit(body));
  });
  form.inputs = inputs;
  form.note = note;
  return form;
}

export function render(main) {
  const note = message();
  const list = h('div', { id: 'printer-list' });
  const panelBox = h('section', { className: 'card', id: 'panel-url', hidden: true });
  const discovered = h('div', { id: 'discovered' });
  let printers = [];
  let editing = null;
  let stopped = false;
  let timer = null;

  const addForm = printerForm({}, 'Add printer', async (body) => {
    for (const k of Object.keys(body)) if (body[k] === '' && k !== 'name' && k !== 'uri') delete body[k];
    const p = await api('POST', 'printers', body);
    for (const input of Object.values(addForm.inputs)) input.value = '';
    say(addForm.note, `Added ${p.name}.`, 'ok');
    await load();
  });
  addForm.id = 'add-printer';

  async function showPanel(p, button) {
    const data = await run(button, note, () => api('POST', `printers/${p.id}/panel-token`));
    if (!data) return;
    const svg = importSvg(data.qr_svg);
    const link = h('a', { href: data.url, target: '_blank', rel: 'noopener', className: 'mono', id: 'panel-url-link', text: data.url });
    clear(panelBox).append(h('h2', { text: `Panel URL for ${p.name}` }),
      h('p', { className: 'hint', text: 'Open it on the printer\'s touch screen, or scan the code. It is shown once: making a new one replaces it.' }),
      h('p', {}, link),
      svg ? h('div', { className: 'qr', id: 'panel-qr' }, svg) : h('p', { className: 'message error', text: 'The server sent no usable QR code.' }),
      h('button', { type: 'button', text: 'Close', onclick: () => { panelBox.hidden = true; } }));
    panelBox.hidden = false;
    panelBox.scrollIntoView({ block: 'nearest' });
  }

  function actions(p) {
    const toggle = writeButton(p.enabled ? 'Disable' : 'Enable', async () => {
      if (await run(toggle, note, () => api('PATCH', `printers/${p.id}`, { enabled: !p.enabled }))) {
        say(note, `${p.name} is ${p.enabled ? 'disabled' : 'enabled'}.`, 'ok');
        await load();
      }
    });
    const test = writeButton('Test page', async () => {
      const r = await run(test, note, () => api('POST', `printers/${p.id}/test-page`));
      if (r) say(note, `Test page sent to ${p.name} (job ${r.job_id}).`, 'ok');
    });
    const panel = writeButton('Panel URL', () => showPanel(p, panel));
    const edit = writeButton('Edit', () => { editing = p.id; draw(); });
    const remove = writeButton('Remove', async () => {
      if (!await confirmAction(`Remove the printer ${p.name}? Jobs already sent to it are not affected.`, 'Remove')) return;
      if (await run(remove, note, () => api('DELETE', `printers/${p.id}`)) !== undefined) {
        say(note, `${p.name} was removed.`, 'ok');
        await load();
      }
    }, { className: 'danger' });
    return h('div', { className: 'row-actions' }, edit, toggle, test, panel, remove);
  }

  function draw() {
    if (printers.length === 0) {
      clear(list).append(h('p', { text: 'No printers yet.' }));
      return;
    }
    const rows = [];
    for (const p of printers) {
      rows.push(h('tr', { dataset: { printer: p.name, id: String(p.id) } },
        h('td', {}, h('strong', { text: p.name }), p.alias ? h('div', { className: 'hint', text: p.alias }) : null),
        h('td', { text: p.location || '—' }),
        h('td', { className: 'mono', text: p.uri }),
        h('td', { text: p.group || '—' }),
        h('td', { className: 'state' }, badge(p.enabled ? p.state : 'disabled'),
          (p.reasons || []).length ? h('div', { className: 'hint', text: p.reasons.join(', ') }) : null),
        h('td', {}, actions(p))));
      if (editing === p.id) {
        const form = printerForm(p, 'Save', async (body) => {
          await api('PATCH', `printers/${p.id}`, body);
          editing = null;
          say(note, `${body.name} saved.`, 'ok');
          await load();
        }, () => { editing = null; draw(); });
        rows.push(h('tr', { className: 'edit-row' }, h('td', { colspan: '6' }, form)));
      }
    }
    clear(list).append(table(['Printer', 'Location', 'URI', 'Group', 'State', ''], rows, { id: 'printers-table' }));
  }

  async function load() {
    try {
      const data = await api('GET', 'printers', undefined, { limit: 500 });
      printers = data.items || [];
      if (!stopped) draw();
    } catch (err) {
      say(note, err.message, 'error');
    }
  }

  // Status only: redraws when no edit form is open (so typing is never lost).
  async function refresh() {
    if (editing === null && document.visibilityState === 'visible') await load();
    if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
  }

  const targets = h('input', { type: 'text', placeholder: '192.0.2.0/28 or 192.0.2.10', spellcheck: 'false' });
  const discoveryNote = message();
  function drawDiscovered(items) {
    if (!items.length) {
      clear(discovered).append(h('p', { text: 'Nothing found. Probe an address or a small network, or add the printer by URI.' }));
      return;
    }
    clear(discovered).append(table(['Name', 'Make and model', 'URI', 'Found by', ''], items.map((d) =>
      h('tr', {}, h('td', { text: d.name || '—' }), h('td', { text: d.make_and_model || '—' }),
        h('td', { className: 'mono', text: d.uri }), h('td', { text: d.source }),
        h('td', {}, writeButton('Use', () => {
          addForm.inputs.uri.value = d.uri;
          if (!addForm.inputs.name.value) addForm.inputs.name.value = (d.name || '').replace(/\s+/g, '-');
          addForm.inputs.name.focus();
        }))))));
  }
  const browse = h('button', { type: 'button', text: 'Show discovered printers', onclick: async () => {
    const data = await run(browse, discoveryNote, () => api('GET', 'discovery', undefined, { limit: 500 }));
    if (data) drawDiscovered(data.items || []);
  } });
  const probe = writeButton('Probe', async () => {
    say(discoveryNote, 'Probing…');
    const data = await run(probe, discoveryNote, () => api('POST', 'discovery/probe', { targets: targets.value.trim() }));
    if (data) {
      say(discoveryNote, '');
      drawDiscovered(data.items || []);
    }
  });

  main.append(h('h1', { text: 'Printers' }), note, list, panelBox,
    h('section', { className: 'card write-only' }, h('h2', { text: 'Add a printer' }), addForm,
      h('h3', { text: 'From discovery' }),
      h('div', { className: 'inline' }, browse, field('Probe addresses', targets), probe),
      discoveryNote, discovered));
  load();
  timer = setTimeout(refresh, REFRESH_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
