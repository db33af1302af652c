// lib.mjs - what every browser scenario shares: Debian's Chromium through playwright-core,
// the parameters the Python test passed, screenshots, and the result handed back.
//
// A scenario is a Node.js module run by tests/e2e/browser.py:
//   PP_URL              the server's base URL ("https://127.0.0.1:PORT")
//   PP_PARAMS           JSON the Python test passes (users, codes, printer tokens, …)
//   PP_SCREENSHOT_DIR   where shot() saves PNGs (kept after the run for people to look at)
// It prints progress lines, calls done(result) at the end (the last stdout line is
// "RESULT <json>", which the Python test reads), and exits non-zero on any failure.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const url = process.env.PP_URL || '';
export const params = JSON.parse(process.env.PP_PARAMS || '{}');
const screenshotDir = process.env.PP_SCREENSHOT_DIR || '';

// Phone, panel and desktop screens the apps must work on.
export const SCREENS = {
  phone: { width: 390, height: 844 },
  panelSmall: { width: 800, height: 480 },
  panelLarge: { width: 1024, height: 600 },
  desktop: { width: 1280, height: 800 },
};

// Starts headless Chromium (never a downloaded browser). The server's certificate is the
// test's own self-signed one, so its errors are ignored for this browser only (the flag as
// well as the context option: service worker scripts are fetched outside the context).
export async function launch() {
  const args = ['--ignore-certificate-errors'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
}

// A fresh context (no cookies, no storage) with the given screen; console errors and failed
// page scripts are collected so the scenario can assert that there were none.
export async function newContext(browser, screen, extra = {}) {
  const context = await browser.newContext({
    viewport: screen,
    ignoreHTTPSErrors: true,
    hasTouch: screen.width <= 1024,
    ...extra,
  });
  context.pageErrors = [];
  context.on('page', (page) => watch(context, page));
  return context;
}

function watch(context, page) {
  page.on('pageerror', (err) => context.pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') context.pageErrors.push('console: ' + msg.text());
  });
}

// Saves a full-page PNG named name.png in PP_SCREENSHOT_DIR (when set).
export async function shot(page, name) {
  if (!screenshotDir) return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, name + '.png'), fullPage: true });
}

export function step(text) {
  console.log('step: ' + text);
}

// Ends the scenario: the Python test reads the result from the last line.
export function done(result = {}) {
  console.log('RESULT ' + JSON.stringify(result));
}

// Runs main(); any throw is printed with its stack and exits 1.
export function run(main) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err && err.stack ? err.stack : String(err));
      process.exit(1);
    },
  );
}
