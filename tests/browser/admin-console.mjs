// admin-console.mjs - an admin runs the service from the console at 1280x800: a wrong
// password is explained, then sign-in; the dashboard; a printer added by URI gets a test
// page; its panel URL and QR code; a refused setting value shows the server's message, then
// the retention is changed; the company code is regenerated; a pending user is approved.
// Python checks the effects (tests/e2e/test_admin_console.py).
import assert from 'node:assert/strict';
import { url, params, launch, newContext, shot, step, done, run, SCREENS } from './lib.mjs';
import { signIn, open, assertNoPageErrors } from './admin-lib.mjs';

run(async () => {
  const browser = await launch();
  const context = await newContext(browser, SCREENS.desktop);
  const page = await context.newPage();
  const result = {};

  step('a wrong password is explained');
  await page.goto(`${url}/admin/`);
  await page.locator('#signin-form').waitFor();
  assert.equal(await page.locator('#nav').isVisible(), false);
  await page.getByLabel('Name').fill(params.admin);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const wrong = page.locator('#signin-form .message.error');
  await wrong.waitFor();
  assert.match(await wrong.textContent(), /wrong.*try again/i);
  await shot(page, 'admin-signin');

  step('sign in: the dashboard');
  await signIn(page, params.admin, params.password);
  assert.match(await page.locator('#who').textContent(), new RegExp(params.admin));
  await page.locator('#queue-counts').waitFor();
  result.dashboardCards = await page.locator('#dashboard .card h2').allTextContents();
  await shot(page, 'admin-dashboard');

  step('add a printer by URI');
  await open(page, 'Printers');
  const add = page.locator('#add-printer');
  await add.getByLabel('Name').fill('Lobby');
  await add.getByLabel('Device URI').fill(params.printerUri);
  await add.getByLabel('Location').fill('Ground floor');
  await add.getByRole('button', { name: 'Add printer' }).click();
  const lobby = page.locator('tr[data-printer="Lobby"]');
  await lobby.waitFor();

  step('print a test page');
  await lobby.getByRole('button', { name: 'Test page' }).click();
  await page.locator('main > .message.ok', { hasText: 'Test page sent' }).waitFor();

  step('the panel URL and its QR code');
  await page.locator('tr[data-printer="Lobby"]').getByRole('button', { name: 'Panel URL' }).click();
  await page.locator('#panel-qr svg').waitFor();
  result.panelUrl = await page.locator('#panel-url-link').textContent();
  result.qrRects = await page.locator('#panel-qr svg rect').count();
  assert.ok(result.qrRects > 10, 'the QR code has no modules');
  await shot(page, 'admin-printers');

  step('a refused setting shows the server\'s message beside the field');
  await open(page, 'Settings');
  const retention = page.locator('div.setting[data-setting="jobs.retention_hours"]');
  await retention.waitFor();
  const input = retention.locator('input');
  assert.equal(await input.getAttribute('type'), 'number');
  assert.equal(await input.getAttribute('min'), '1');
  await input.fill('0');
  await retention.getByRole('button', { name: 'Save' }).click();
  const refusal = retention.locator('.message.error');
  await refusal.waitFor();
  result.refusal = await refusal.textContent();
  await shot(page, 'admin-settings-refused');

  step('change the retention');
  await input.fill(String(params.retentionHours));
  await retention.getByRole('button', { name: 'Save' }).click();
  await retention.locator('.message.ok', { hasText: 'Saved' }).waitFor();
  const policy = page.locator('div.setting[data-setting="users.unknown_sender_policy"] select');
  result.policyOptions = await policy.locator('option').allTextContents();

  step('regenerate the company code');
  const code = page.locator('#company-code');
  await page.waitForFunction(() => /^[A-Za-z0-9]{4,}$/.test(document.getElementById('company-code').textContent));
  result.oldCode = await code.textContent();
  await page.locator('#company-code-regenerate').click();
  await page.locator('#confirm').getByRole('button', { name: 'Regenerate' }).click();
  await page.waitForFunction((old) => {
    const text = document.getElementById('company-code').textContent;
    return text !== old && /^[A-Za-z0-9]{4,}$/.test(text);
  }, result.oldCode);
  result.newCode = await code.textContent();
  await shot(page, 'admin-settings');

  step('approve the pending user');
  await open(page, 'Users');
  await page.getByLabel('State').selectOption('pending');
  const pending = page.locator(`tr[data-user="${params.pendingUser}"]`);
  await pending.waitFor();
  await pending.getByRole('button', { name: 'Approve' }).click();
  await page.locator('main > .message.ok', { hasText: 'approved' }).waitFor();
  await page.getByLabel('State').selectOption('');
  await page.locator(`tr[data-user="${params.pendingUser}"] .badge`).waitFor();
  result.approvedState = await page.locator(`tr[data-user="${params.pendingUser}"] .badge`).textContent();
  await shot(page, 'admin-users');

  step('the jobs page');
  await open(page, 'Jobs');
  await page.locator('#jobs-table, #job-list p').first().waitFor();
  result.jobsShown = await page.locator('#jobs-table tbody tr').count();
  await shot(page, 'admin-jobs');

  // 401: the wrong password; 400: the refused setting.
  assertNoPageErrors(context, [400, 401]);
  await context.close();
  await browser.close();
  done(result);
});
