// portal.mjs - the portal on a phone: enrol with the company code, sign in with the mailed
// code, upload a PDF and a photo, preview, pick options and a printer, print; print another
// file at once to a printer that is off; delete; another user's job never shows; sign out.
//
// PP_PARAMS (tests/e2e/test_portal.py): companyCode, email, codeFile (the Python side writes
// the code from the captured mail there), pdf, photo, printNow (file paths), foreignTitle,
// printer (the working one), offPrinter (the one that is off).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { chromium } from 'playwright-core';
import { url, params, newContext, shot, step, done, run, SCREENS } from './lib.mjs';

// lib.mjs's launch(), plus --ignore-certificate-errors: Chromium registers no service worker
// from a server whose certificate it does not trust (ignoreHTTPSErrors is not enough), and
// the share target lives in the service worker. A real device trusts the server's
// certificate (docs/users.md).
async function launch() {
  const args = ['--ignore-certificate-errors'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function readCode(file, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    await sleep(100);
  }
  throw new Error('the code mail never came');
}

// The job item of the list with this title.
const jobItem = (page, title) => page.locator('#jobs li.job', { hasText: title });

async function waitState(page, title, states, timeout = 60000) {
  const item = jobItem(page, title);
  await item.waitFor({ timeout });
  const deadline = Date.now() + timeout;
  for (;;) {
    const st = await item.getAttribute('data-state');
    if (states.includes(st)) return st;
    if (Date.now() > deadline) throw new Error(`${title} stayed ${st}, expected ${states}`);
    await sleep(150);
  }
}

// True once every <img> matched has loaded a picture.
async function imagesLoaded(page, selector, count, timeout = 60000) {
  await page.waitForFunction(([sel, n]) => {
    const imgs = [...document.querySelectorAll(sel)];
    return imgs.length >= n && imgs.slice(0, n).every((i) => i.complete && i.naturalWidth > 0);
  }, [selector, count], { timeout });
}

async function choosePrinter(page, search, name) {
  await page.click('#printer-change');
  await page.locator('#printer-sheet').waitFor({ state: 'visible' });
  await page.locator('#printers-all button, #printers-recent button').first().waitFor();
  await page.fill('#printer-search', search);
  const button = page.locator('#printer-sheet .printers button', { hasText: name });
  await button.first().waitFor();
  await page.waitForFunction(
    (n) => [...document.querySelectorAll('#printer-sheet .printers button')].length === 1
      && document.querySelector('#printer-sheet .printers button').textContent.includes(n),
    name, { timeout: 10000 });
  return button.first();
}

// Every visible control is labelled and at least 44 px tall and wide (touch targets).
async function checkControls(page, where) {
  const bad = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('button, input, select, a.btn, [role="button"]')) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
      if (el.closest('.segmented')) continue; // the radio fills its 44 px label
      const name = el.labels && el.labels.length ? el.labels[0].textContent
        : el.getAttribute('aria-label') || el.textContent;
      if (!name || !name.trim()) out.push(`${el.id || el.tagName}: no label`);
      if (el.type !== 'checkbox' && (r.height < 44 || r.width < 44)) {
        out.push(`${el.id || el.textContent.trim() || el.tagName}: ${Math.round(r.width)}x${Math.round(r.height)} px`);
      }
    }
    return out;
  });
  assert.deepEqual(bad, [], `controls on ${where}`);
}

run(async () => {
  const browser = await launch();
  const context = await newContext(browser, SCREENS.phone, { isMobile: true });
  const page = await context.newPage();
  const result = {};

  step('the sign-in screen');
  await page.goto(`${url}/portal/`);
  await page.locator('#view-signin').waitFor({ state: 'visible' });
  assert.match(await page.title(), /Pullprint/);
  await shot(page, 'portal-signin');
  await checkControls(page, 'the sign-in screen');

  step('enrol with the company code');
  await page.fill('#enrol-company', params.companyCode.toLowerCase());
  await page.fill('#enrol-email', params.email);
  await page.click('#enrol-submit');
  await page.locator('#enrol-result', { hasText: 'Code sent' }).waitFor();
  assert.equal(await page.inputValue('#signin-email'), params.email);
  await shot(page, 'portal-enrol');

  step('sign in with the mailed code');
  const code = await readCode(params.codeFile);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'signin-code');
  await page.fill('#signin-code', code);
  await page.check('#signin-stay');
  await page.click('#signin-submit');
  await page.locator('#view-jobs').waitFor({ state: 'visible' });
  await page.locator('#jobs-empty').waitFor({ state: 'visible' });
  assert.equal(await page.textContent('#whoami'), params.email);
  // The token never reaches JavaScript: the cookie is HttpOnly.
  assert.equal(await page.evaluate(() => document.cookie), '');
  const cookies = await context.cookies(`${url}/api/v1/me`);
  const session = cookies.find((c) => c.name === 'pp_session');
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === 'Strict');
  assert.ok(session.expires > Date.now() / 1000, 'stay signed in: a lasting cookie');

  step('upload a PDF and a photo');
  await page.setInputFiles('#file-add', [params.pdf, params.photo]);
  const pdfTitle = basename(params.pdf);
  const photoTitle = basename(params.photo);
  assert.equal(await waitState(page, pdfTitle, ['held', 'failed', 'rejected']), 'held');
  assert.equal(await waitState(page, photoTitle, ['held', 'failed', 'rejected']), 'held');
  await imagesLoaded(page, '#jobs .thumb img', 2);
  assert.equal(await jobItem(page, params.foreignTitle).count(), 0, "another user's job is shown");
  assert.match(await jobItem(page, pdfTitle).textContent(), /3 pages/);
  await shot(page, 'portal-jobs');
  await checkControls(page, 'the job list');

  step('preview the PDF');
  await jobItem(page, pdfTitle).locator('button.job-open').click();
  await page.locator('#job-sheet').waitFor({ state: 'visible' });
  await imagesLoaded(page, '#job-preview img', 1);
  assert.equal(await page.locator('#job-preview figure').count(), 3);
  assert.match(await page.textContent('#job-status'), /Ready to print · 3 pages/);
  await shot(page, 'portal-preview');
  await checkControls(page, 'the job sheet');

  step('options: 2 copies, two-sided, black & white');
  await page.click('#copies-up');
  assert.equal(await page.inputValue('#opt-copies'), '2');
  await page.selectOption('#opt-sides', 'two-sided-long-edge');
  await page.locator('#options-form label', { hasText: 'Black & white' }).click();
  assert.ok(await page.isChecked('input[name="color_mode"][value="monochrome"]'));

  step('pick the printer by searching for its place');
  const lab = await choosePrinter(page, 'second floor', params.printer);
  await shot(page, 'portal-printers');
  await lab.click();
  await page.locator('#printer-sheet').waitFor({ state: 'hidden' });
  assert.equal(await page.textContent('#printer-name'), params.printer);
  assert.match(await page.textContent('#printer-detail'), /Second floor lab/);
  await page.locator('#job-print').scrollIntoViewIfNeeded();
  await shot(page, 'portal-options');

  step('print, and the page says it printed');
  await page.click('#job-print');
  await page.locator('#job-sheet').waitFor({ state: 'hidden' });
  assert.equal(await waitState(page, pdfTitle, ['completed', 'failed'], 90000), 'completed');
  await page.locator('.toast', { hasText: 'Printed:' }).waitFor();
  await shot(page, 'portal-printed');

  step('print now to the printer that is off, and the page says it failed');
  await page.setInputFiles('#file-now', params.printNow);
  await page.locator('#job-sheet').waitFor({ state: 'visible' });
  assert.equal(await page.textContent('#job-print'), 'Print now');
  // The recent printer is offered first.
  assert.equal(await page.textContent('#printer-name'), params.printer);
  const off = await choosePrinter(page, 'basement', params.offPrinter);
  await off.click();
  await page.click('#job-print');
  const nowTitle = basename(params.printNow);
  // The printer is unreachable: the job fails there and waits again, with the reason.
  await page.locator('.toast.notice-error', { hasText: 'Not printed' }).waitFor({ timeout: 90000 });
  assert.match(await jobItem(page, nowTitle).textContent(), /Not printed.*Basement/s);
  await shot(page, 'portal-failed');
  await page.locator('.toast.notice-error button').click();

  step('delete the photo');
  await jobItem(page, photoTitle).locator('button.job-open').click();
  await page.locator('#job-sheet').waitFor({ state: 'visible' });
  await page.click('#job-delete');
  assert.equal(await page.textContent('#job-delete'), 'Tap again to delete');
  await page.click('#job-delete');
  await page.locator('#job-sheet').waitFor({ state: 'hidden' });
  await jobItem(page, photoTitle).waitFor({ state: 'detached' });

  step('a reload keeps the session and lists the jobs again');
  await page.reload();
  await jobItem(page, pdfTitle).waitFor();
  assert.equal(await jobItem(page, photoTitle).count(), 0);
  assert.equal(await jobItem(page, params.foreignTitle).count(), 0);

  step('share a file from another app (Web Share Target)');
  const shared = readFileSync(params.printNow).toString('base64');
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!reg.active) throw new Error('no active service worker');
  });
  await Promise.all([
    page.waitForURL(/\/portal\/(\?shared=1.*)?$/),
    page.evaluate((b64) => {
      // What Android does for a share to the installed app: a multipart POST to the
      // manifest's share_target action, which the service worker answers.
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const form = document.createElement('form');
      form.method = 'POST';
      form.enctype = 'multipart/form-data';
      form.action = '/portal/share';
      const input = document.createElement('input');
      input.type = 'file';
      input.name = 'file';
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'shared ticket.pdf', { type: 'application/pdf' }));
      input.files = dt.files;
      form.append(input);
      document.body.append(form);
      form.submit();
    }, shared),
  ]);
  await page.locator('.toast', { hasText: '1 shared file added' }).waitFor();
  assert.equal(await waitState(page, 'shared ticket.pdf', ['held', 'failed', 'rejected']), 'held');
  assert.equal(new URL(page.url()).search, '', 'the ?shared= is taken off the address');

  step('sign out clears the list');
  await page.click('#signout');
  await page.locator('#view-signin').waitFor({ state: 'visible' });
  result.signedOutJobs = await page.locator('#jobs li').count();
  const text = await page.textContent('body');
  assert.ok(!text.includes(pdfTitle), 'a job title is still on the page');
  const me = await page.evaluate(async () => (await fetch('/api/v1/login-options')).status);
  assert.equal(me, 200);
  assert.equal((await context.cookies(`${url}/api/v1/me`)).filter((c) => c.name === 'pp_session').length, 0);
  await shot(page, 'portal-signedout');

  result.pageErrors = context.pageErrors;
  assert.deepEqual(context.pageErrors, []);
  await context.close();
  await browser.close();
  done(result);
});
