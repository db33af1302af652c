// panel.mjs - the printer panel at 800x480, as a user at the printer meets it: the printer's
// name and place, wrong codes (told so, and how long to wait once throttled), the keypad sign-in, the held jobs with thumbnails,
// options, a preview, two jobs printed here, one deleted, sign-out; then the back button and a
// page left while signed in show nothing of the user, and nothing is stored in the browser.
//
// PP_PARAMS: {panelPath, printer, location, code, wrongCode, email, titles: [all held],
//             print: [two titles], delete: a title, preview: a title of two pages, others: [other users' titles]}
// RESULT: {printed: [titles], remaining: [titles]}
import assert from 'node:assert/strict';
import { url, params, launch, newContext, shot, step, done, run, SCREENS } from './lib.mjs';
import {
  waitScreen, keypad, assertFits, assertTouchTargets, assertNoStorage, assertNothingOf,
  listedTitles, pageText, scriptErrors, watchFailures, panelToken,
} from './panel-lib.mjs';

run(async () => {
  const browser = await launch();
  const context = await newContext(browser, SCREENS.panelSmall);
  const page = await context.newPage();
  const failures = watchFailures(page);
  const userWords = [...params.titles, params.email];

  step('the panel shows its printer and the keypad');
  await page.goto(url + params.panelPath);
  await waitScreen(page, 'signin');
  assert.equal(await page.textContent('#printer-name'), params.printer);
  assert.equal(await page.textContent('#printer-location'), params.location);
  assert.ok(await page.isVisible('#keypad'));
  assert.ok(await page.isVisible('#modes'), 'code and email + code are both offered');
  await assertFits(page, 'sign-in');
  await assertTouchTargets(page, 'sign-in');
  await shot(page, 'panel-signin');

  step('a wrong code is refused and the panel says so');
  await keypad(page, params.wrongCode); // six digits: sent at once
  await page.waitForSelector('#signin-error:not([hidden])');
  assert.match(await page.textContent('#signin-error'), /not right/);
  assert.equal(await page.textContent('#code-display'), '\u00a0'.repeat(params.code.length),
    'the wrong code is cleared');
  await shot(page, 'panel-wrong-code');

  step('more wrong codes: the panel says how long to wait, then lets the user try again');
  let throttled = '';
  for (let attempt = 0; attempt < 4 && !throttled; attempt++) {
    await page.waitForFunction(() => !document.getElementById('signin-submit').disabled);
    await page.evaluate(() => { document.getElementById('signin-error').hidden = true; });
    await keypad(page, params.wrongCode);
    await page.waitForSelector('#signin-error:not([hidden])');
    const said = await page.textContent('#signin-error');
    if (/Wait \d+ s/.test(said)) throttled = said;
    else assert.match(said, /not right/);
  }
  assert.match(throttled, /^Too many wrong tries\. Wait \d+ s, then try again\.$/);
  assert.ok(await page.isDisabled('#signin-submit'), 'signing in waits');
  await shot(page, 'panel-throttled');
  await page.waitForSelector('#signin-error', { state: 'hidden', timeout: 20000 });
  assert.ok(!(await page.isDisabled('#signin-submit')));

  step('the right code signs in and lists the held jobs with thumbnails');
  await keypad(page, params.code);
  await waitScreen(page, 'jobs');
  await page.waitForFunction((n) => document.querySelectorAll('#job-list .job').length === n,
    params.titles.length);
  assert.deepEqual([...(await listedTitles(page))].sort(), [...params.titles].sort());
  const text = await pageText(page);
  for (const other of params.others) assert.ok(!text.includes(other), `${other} is shown`);
  await page.waitForFunction(() => [...document.querySelectorAll('#job-list img.thumb')]
    .every((img) => img.complete && img.naturalWidth > 0), null, { timeout: 20000 });
  assert.ok(await page.isVisible('#signout'));
  await assertFits(page, 'jobs');
  await assertTouchTargets(page, 'jobs');
  await shot(page, 'panel-jobs');

  step('select two jobs');
  for (const title of params.print) {
    await page.click(`#job-list .job:has(.job-title:text-is("${title}")) .job-title`);
  }
  assert.equal(await page.textContent('#selected-count'), '2 selected');
  assert.equal(await page.textContent('#print'), 'Print 2');

  step('options: two copies');
  await page.click('#options');
  await page.waitForSelector('#options-sheet:not([hidden])');
  await page.click('#copies-more');
  assert.equal(await page.textContent('#copies'), '2');
  await assertTouchTargets(page, 'options');
  await shot(page, 'panel-options');
  await page.click('#options-done');
  assert.match(await page.textContent('#options-summary'), /2 copies/);

  step('preview a job of two pages');
  const previewShown = () => page.waitForFunction(() => {
    const img = document.getElementById('preview-image');
    return img.getAttribute('src') && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 20000 });
  await page.click(`#job-list .job:has(.job-title:text-is("${params.preview}")) [data-preview]`);
  await page.waitForSelector('#preview:not([hidden])');
  await previewShown();
  assert.equal(await page.textContent('#preview-page'), 'Page 1 of 2');
  await assertFits(page, 'preview');
  await assertTouchTargets(page, 'preview');
  await page.click('#preview-next');
  assert.equal(await page.textContent('#preview-page'), 'Page 2 of 2');
  await previewShown();
  assert.match(await page.getAttribute('#preview-image', 'src'), /\/pages\/2\/preview$/);
  await shot(page, 'panel-preview');
  await page.click('#preview-close');
  assert.equal(await page.textContent('#selected-count'), '2 selected', 'preview keeps the selection');

  step('print the two jobs here');
  await page.click('#print');
  await page.waitForSelector('#notice.notice-ok:not([hidden])');
  assert.match(await page.textContent('#notice'), /^2 documents sent to /);
  await page.waitForFunction((n) => document.querySelectorAll('#job-list .job').length === n,
    params.titles.length - params.print.length);
  await shot(page, 'panel-printed');

  step('delete a job, after confirming');
  await page.click(`#job-list .job:has(.job-title:text-is("${params.delete}")) .job-title`);
  await page.click('#delete');
  await page.waitForSelector('#confirm:not([hidden])');
  assert.match(await page.textContent('#confirm-text'), /cannot be printed afterwards/);
  await assertTouchTargets(page, 'confirm');
  await page.click('#confirm-yes');
  await page.waitForFunction((n) => document.querySelectorAll('#job-list .job').length === n,
    params.titles.length - params.print.length - 1);
  const remaining = await listedTitles(page);
  await assertNoStorage(page, 'signed in');

  step('sign out: a blank sign-in page, nothing of the user left');
  await Promise.all([page.waitForNavigation(), page.click('#signout')]);
  await waitScreen(page, 'signin');
  await assertNothingOf(page, userWords, 'after sign-out');
  await assertNoStorage(page, 'after sign-out');
  await shot(page, 'panel-signed-out');

  step('the back button shows nothing of the user');
  await page.goBack().catch(() => null);
  await page.waitForLoadState();
  await assertNothingOf(page, userWords, 'after going back');
  await page.goForward().catch(() => null);
  await page.waitForLoadState();
  await assertNothingOf(page, userWords, 'after going forward again');

  step('leaving the page while signed in signs out too');
  await page.goto(url + params.panelPath);
  await waitScreen(page, 'signin');
  await keypad(page, params.code);
  await waitScreen(page, 'jobs');
  await page.waitForFunction(() => document.querySelectorAll('#job-list .job').length > 0);
  await page.goto(url + '/api/v1/openapi.json');
  await page.goBack();
  await page.waitForLoadState();
  await assertNothingOf(page, userWords, 'back to a page left while signed in');
  await waitScreen(page, 'signin');
  // The session ended with the page: the API refuses it now.
  const status = await page.evaluate(async (token) => (await fetch('/api/v1/jobs', {
    headers: { 'X-Panel-Token': token }, credentials: 'same-origin',
  })).status, panelToken(params.panelPath));
  assert.equal(status, 401, 'the session outlived the page');
  await assertNoStorage(page, 'after leaving');

  const errors = scriptErrors(context);
  await context.close();
  await browser.close();
  assert.deepEqual(errors, [], 'script errors; answers >= 400: ' + failures.join(', '));
  done({ printed: params.print, remaining });
});
