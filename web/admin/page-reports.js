// page-reports.js - pages by user, department, printer, day, week, month or submission
// source over a date range; mono versus colour and simplex versus duplex as an SVG chart and a
// table; a CSV download of each report; the accounting export (CSV or JSON, optionally with
// pseudonymised users).

import { api, href } from './api.js';
import { h, clear, field, say, message, table, dateToUnix } from './dom.js';
import { barChart } from './chart.js';

const BY = [['user', 'User'], ['department', 'Department'], ['printer', 'Printer'], ['day', 'Day'],
  ['week', 'Week'], ['month', 'Month'], ['source', 'Submission source']];
const SPLITS = {
  colour: { title: 'Mono versus colour pages', series: [
    { name: 'mono', key: 'mono_pages', className: 'series-mono' },
    { name: 'colour', key: 'colour_pages', className: 'series-colour' }] },
  plex: { title: 'Simplex versus duplex pages', series: [
    { name: 'simplex', key: 'simplex_pages', className: 'series-simplex' },
    { name: 'duplex', key: 'duplex_pages', className: 'series-duplex' }] },
};
const COLUMNS = [['jobs', 'Jobs'], ['pages', 'Pages'], ['mono_pages', 'Mono'], ['colour_pages', 'Colour'],
  ['simplex_pages', 'Simplex'], ['duplex_pages', 'Duplex']];

export function render(main) {
  const note = message();
  const by = h('select', { name: 'by' }, BY.map(([v, t]) => h('option', { value: v, text: t })));
  const split = h('select', { name: 'split' }, h('option', { value: 'colour', text: 'mono / colour' }),
    h('option', { value: 'plex', text: 'simplex / duplex' }));
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  const chartBox = h('div', { className: 'chart-box', id: 'report-chart' });
  const tableBox = h('div', { id: 'report-table' });
  const csv = h('a', { className: 'button', id: 'report-csv', download: '', text: 'Download CSV' });
  let last = null;

  function range() {
    return { from: dateToUnix(from.value), to: dateToUnix(to.value, true) };
  }

  function draw() {
    if (!last) return;
    const rows = last.rows || [];
    const spec = SPLITS[split.value];
    clear(chartBox);
    clear(tableBox);
    if (rows.length === 0) {
      chartBox.append(h('p', { text: 'Nothing was printed in this period.' }));
      return;
    }
    chartBox.append(barChart(rows.map((r) => ({ label: String(r.key), values: spec.series.map((s) => Number(r[s.key] || 0)) })),
      spec.series, `${spec.title} by ${by.selectedOptions[0].textContent.toLowerCase()}`));
    const totals = last.totals || {};
    tableBox.append(table([by.selectedOptions[0].textContent, ...COLUMNS.map((c) => c[1])],
      [...rows.map((r) => h('tr', {}, h('td', { text: String(r.key) }),
        COLUMNS.map(([k]) => h('td', { className: 'num', text: String(r[k] ?? 0) })))),
      h('tr', { className: 'totals' }, h('th', { scope: 'row', text: 'Total' }),
        COLUMNS.map(([k]) => h('td', { className: 'num', text: String(totals[k] ?? 0) })))],
      { id: 'report-rows' }));
  }

  async function load() {
    const params = { by: by.value, ...range() };
    csv.href = href('reports', { ...params, format: 'csv' });
    csv.setAttribute('download', `pullprint-report-${by.value}.csv`);
    try {
      last = await api('GET', 'reports', undefined, params);
      say(note, '');
      draw();
    } catch (err) {
      say(note, err.message, 'error');
    }
  }

  const filters = h('form', { className: 'filters' }, field('Pages by', by), field('From', from), field('To', to),
    field('Chart', split), h('button', { type: 'submit', text: 'Show' }));
  filters.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  by.addEventListener('change', load);
  split.addEventListener('change', draw);

  // Accounting export: a plain download link, rebuilt when an option changes.
  const format = h('select', { name: 'format' }, h('option', { value: 'csv', text: 'CSV' }), h('option', { value: 'json', text: 'JSON' }));
  const pseudo = h('input', { type: 'checkbox', name: 'pseudonymise', id: 'pseudonymise' });
  const exportFrom = h('input', { type: 'date' });
  const exportTo = h('input', { type: 'date' });
  const exportLink = h('a', { className: 'button', id: 'export-link', download: '', text: 'Download export' });
  const updateExport = () => {
    exportLink.href = href('accounting/export', { format: format.value, pseudonymise: pseudo.checked ? 1 : 0,
      from: dateToUnix(exportFrom.value), to: dateToUnix(exportTo.value, true) });
    exportLink.setAttribute('download', `pullprint-accounting.${format.value}`);
  };
  for (const c of [format, pseudo, exportFrom, exportTo]) c.addEventListener('change', updateExport);
  updateExport();

  main.append(h('h1', { text: 'Reports' }), filters, note,
    h('section', { className: 'card' }, chartBox, h('p', {}, csv), tableBox),
    h('section', { className: 'card', id: 'accounting-export' }, h('h2', { text: 'Accounting export' }),
      h('p', { className: 'hint', text: 'One row per finished job. With pseudonymised users the counts stay right and no address appears.' }),
      h('div', { className: 'filters' }, field('Format', format), field('From', exportFrom), field('To', exportTo),
        h('div', { className: 'field check' }, pseudo, h('label', { for: 'pseudonymise', text: 'Pseudonymise users' }))),
      h('p', {}, exportLink)));
  load();
}
