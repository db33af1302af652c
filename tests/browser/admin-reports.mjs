// admin-reports.mjs - after some printing: the reports page draws its chart as inline SVG
// and its CSV downloads; the accounting export downloads pseudonymised; the audit log shows
// the admin's actions and exports as CSV; a write without the CSRF token is refused; the
// console works on a phone through its menu.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { url, params, launch, newContext, shot, step, done, run, SCREENS } from './lib.mjs';
import { signIn, open, assertNoPageErrors } from './admin-lib.mjs';

async function download(page, locator) {
  const [file] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
}

run(async () => {
  const browser = await launch();
  const context = await newContext(browser, SCREENS.desktop, { acceptDownloads: true });
  const page = await context.newPage();
  const result = {};

  await signIn(page, params.admin, params.password);

  step('reports by user: chart and CSV');
  await open(page, 'Reports');
  await page.locator('#report-chart svg rect').first().waitFor();
  result.chartBars = await page.locator('#report-chart svg rect').count();
  result.tableRows = await page.locator('#report-rows tbody tr:not(.totals)').count();
  const csv = await download(page, page.locator('#report-csv'));
  result.reportCsv = csv.text;
  result.reportCsvName = csv.name;
  await page.getByLabel('Chart', { exact: true }).selectOption('plex');
  await page.locator('#report-chart svg .series-simplex, #report-chart svg .series-duplex').first().waitFor();
  await shot(page, 'admin-reports');

  step('reports by printer');
  await page.getByLabel('Pages by', { exact: true }).selectOption('printer');
  await page.waitForFunction(() => document.querySelector('#report-rows th')?.textContent === 'Printer');
  result.printerKeys = await page.locator('#report-rows tbody tr:not(.totals) td:first-child').allTextContents();

  step('accounting export, pseudonymised');
  await page.locator('#pseudonymise').check();
  await page.getByLabel('Format', { exact: true }).selectOption('json');
  const exported = await download(page, page.locator('#export-link'));
  result.exportName = exported.name;
  result.exportText = exported.text;

  step('the audit log');
  await open(page, 'Audit log');
  await page.locator('#audit-table').waitFor();
  result.auditActions = await page.locator('#audit-table tbody td:nth-child(3)').allTextContents();
  await shot(page, 'admin-audit');
  await page.getByLabel('Search').fill('setting');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody td:nth-child(3)')]
    .every((td) => /setting/.test(td.closest('tr').textContent)));
  result.auditSearched = await page.locator('#audit-table tbody tr').count();
  const auditCsv = await download(page, page.locator('#audit-csv'));
  result.auditCsv = auditCsv.text;

  step('a write without the CSRF token is refused');
  result.noCsrf = await page.evaluate(async () => {
    const r = await fetch('/api/v1/admin/settings/jobs.retention_hours', {
      method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ value: '2' }) });
    return { status: r.status, body: await r.json() };
  });
  assertNoPageErrors(context, [403]);
  await context.close();

  step('on a phone: the dashboard and the menu');
  const phone = await newContext(browser, SCREENS.phone);
  const small = await phone.newPage();
  await signIn(small, params.admin, params.password);
  await small.locator('#queue-counts').waitFor();
  assert.equal(await small.locator('#nav').isVisible(), false, 'the navigation should be a menu on a phone');
  const width = await small.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the dashboard is ${width}px wide on a 390px phone`);
  await shot(small, 'admin-dashboard-phone');
  await open(small, 'Printers');
  await small.locator('tr[data-printer="Lobby"]').waitFor();
  assert.equal(await small.locator('#nav').isVisible(), false, 'the menu closes after a choice');
  await shot(small, 'admin-printers-phone');
  assertNoPageErrors(phone);
  await phone.close();

  await browser.close();
  done(result);
});
