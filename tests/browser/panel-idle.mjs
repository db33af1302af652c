// panel-idle.mjs - the panel at 1024x600: email + code sign-in with the code hidden
// (panel.hide_code = yes), then nobody touches the screen: a countdown shows in the last
// seconds and the panel signs out by itself to a blank sign-in page.
//
// PP_PARAMS: {panelPath, email, code, titles: [the user's held jobs], idleTimeout}
// RESULT: {signedOutAfterS, countdownSeen}
import assert from 'node:assert/strict';
import { url, params, launch, newContext, shot, step, done, run, SCREENS } from './lib.mjs';
import {
  waitScreen, keypad, assertFits, assertTouchTargets, assertNoStorage, assertNothingOf,
  listedTitles, scriptErrors, watchFailures, panelToken,
} from './panel-lib.mjs';

run(async () => {
  const browser = await launch();
  const context = await newContext(browser, SCREENS.panelLarge);
  const page = await context.newPage();
  const failures = watchFailures(page);

  step('email + code, the code hidden');
  await page.goto(url + params.panelPath);
  await waitScreen(page, 'signin');
  await page.click('#modes .mode[data-mode="email_code"]');
  assert.ok(await page.isVisible('#email'));
  await page.fill('#email', params.email);
  await keypad(page, params.code);
  const shown = await page.textContent('#code-display');
  assert.ok(!/[0-9]/.test(shown), `the code is shown: ${shown}`);
  assert.equal(shown, '•'.repeat(params.code.length));
  await assertFits(page, 'email sign-in');
  await assertTouchTargets(page, 'email sign-in');
  await shot(page, 'panel-email-signin');
  await page.click('#signin-submit');
  await waitScreen(page, 'jobs');
  await page.waitForFunction((n) => document.querySelectorAll('#job-list .job').length === n,
    params.titles.length);
  assert.deepEqual([...(await listedTitles(page))].sort(), [...params.titles].sort());
  await assertFits(page, 'jobs 1024x600');
  await assertTouchTargets(page, 'jobs 1024x600');
  await shot(page, 'panel-jobs-large');

  step('nobody touches the screen: a countdown, then signed out');
  const started = Date.now();
  const reloaded = page.waitForEvent('load', { timeout: (params.idleTimeout + 15) * 1000 });
  await page.waitForSelector('#idle-warning:not([hidden])',
    { timeout: (params.idleTimeout + 5) * 1000 });
  const seconds = Number(await page.textContent('#idle-seconds'));
  assert.ok(seconds >= 1 && seconds <= 10, `countdown shows ${seconds}`);
  await shot(page, 'panel-idle-warning');
  await reloaded;
  await waitScreen(page, 'signin', (params.idleTimeout + 10) * 1000);
  const after = (Date.now() - started) / 1000;
  await assertNothingOf(page, [...params.titles, params.email], 'after the idle sign-out');
  await assertNoStorage(page, 'after the idle sign-out');
  const status = await page.evaluate(async (token) => (await fetch('/api/v1/jobs', {
    headers: { 'X-Panel-Token': token }, credentials: 'same-origin',
  })).status, panelToken(params.panelPath));
  assert.equal(status, 401, 'the session outlived the idle sign-out');

  const errors = scriptErrors(context);
  await context.close();
  await browser.close();
  assert.deepEqual(errors, [], 'script errors; answers >= 400: ' + failures.join(', '));
  done({ signedOutAfterS: after, countdownSeen: seconds });
});
