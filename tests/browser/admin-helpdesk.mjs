// admin-helpdesk.mjs - a help-desk account sees the console read-only: no write button, and
// the server refuses a write anyway; after idle_timeout_s without activity the console warns
// in the last 30 seconds, then signs out (the page clock is driven by Playwright); too many
// wrong passwords show how long to wait.
import assert from 'node:assert/strict';
import { url, params, launch, newContext, shot, step, done, run, SCREENS } from './lib.mjs';
import { signIn, open, assertNoPageErrors } from './admin-lib.mjs';

run(async () => {
  const browser = await launch();
  const context = await newContext(browser, SCREENS.desktop);
  const page = await context.newPage();
  await page.clock.install();
  const result = {};

  step('help desk: settings without save buttons');
  await signIn(page, params.helpdesk, params.helpdeskPassword);
  assert.match(await page.locator('#who').textContent(), /help desk/);
  await open(page, 'Settings');
  const retention = page.locator('div.setting[data-setting="jobs.retention_hours"]');
  await retention.waitFor();
  result.visibleSaveButtons = await page.getByRole('button', { name: 'Save' }).count();
  result.regenerateVisible = await page.locator('#company-code-regenerate').isVisible();
  await shot(page, 'admin-settings-helpdesk');

  step('help desk: the server refuses a write');
  result.write = await page.evaluate(async () => {
    const session = await (await fetch('/api/v1/admin/session')).json();
    const r = await fetch('/api/v1/admin/settings/jobs.retention_hours', {
      method: 'PUT', body: JSON.stringify({ value: '5' }),
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token } });
    return { status: r.status, body: await r.json() };
  });

  step('help desk: printers and users read-only');
  await open(page, 'Printers');
  await page.locator('#printers-table').waitFor();
  result.printerWriteButtons = await page.locator('main button.write:visible').count();
  await open(page, 'Users');
  await page.locator('#users-table').waitFor();
  result.userWriteButtons = await page.locator('main button.write:visible').count();

  step('idle: a warning in the last 30 s, then sign-out');
  const idle = Number(params.idleTimeoutS);
  await page.clock.fastForward((idle - 20) * 1000);
  await page.locator('#idle-warning').waitFor();
  result.warning = await page.locator('#idle-text').textContent();
  await shot(page, 'admin-idle-warning');
  await page.clock.fastForward(25 * 1000);
  await page.locator('#signin-form').waitFor();
  result.signedOutText = await page.locator('#signin-form .message').textContent();
  result.sessionAfter = await page.evaluate(async () => (await fetch('/api/v1/admin/session')).status);

  step('too many wrong passwords: the page says how long to wait');
  for (let i = 0; i < 12; i++) {
    await page.getByLabel('Name').fill('nobody');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-form .message.error').waitFor();
    await page.waitForFunction(() => !document.querySelector('#signin-form button[type=submit]').disabled ||
      /Wait \d+ s/.test(document.querySelector('#signin-form .message').textContent));
    const text = await page.locator('#signin-form .message').textContent();
    if (/Wait \d+ s/.test(text)) {
      result.throttled = text;
      result.signInDisabled = await page.locator('#signin-form button[type=submit]').isDisabled();
      break;
    }
  }
  await shot(page, 'admin-signin-throttled');

  // 403: the refused write; 401: the session check after the sign-out and wrong passwords;
  // 429: the throttled sign-in.
  assertNoPageErrors(context, [401, 403, 429]);
  await context.close();
  await browser.close();
  done(result);
});
