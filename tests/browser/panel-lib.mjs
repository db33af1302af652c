// panel-lib.mjs - what the panel scenarios (panel.mjs, panel-idle.mjs) check on every screen:
// keypad sign-in, the page frame fits the screen, touch targets are big enough, and nothing
// of a user is left in the page or the browser's storage.
import assert from 'node:assert/strict';

// The visible text of the page, overlays included.
export async function pageText(page) {
  return page.evaluate(() => document.body.innerText);
}

// Waits until a screen of the panel is the one shown ("signin", "jobs", "setup").
export async function waitScreen(page, name, timeout = 15000) {
  await page.waitForSelector(`#screen-${name}:not([hidden])`, { state: 'visible', timeout });
}

// Types digits on the on-screen keypad.
export async function keypad(page, digits) {
  for (const d of String(digits)) {
    await page.click(`#keypad .key[data-key="${d}"]`);
  }
}

// The page frame never scrolls (lists scroll inside): nothing sticks out of the viewport.
export async function assertFits(page, what) {
  const sizes = await page.evaluate(() => ({
    scrollW: document.documentElement.scrollWidth,
    scrollH: document.documentElement.scrollHeight,
    bodyH: document.body.scrollHeight,
    w: window.innerWidth,
    h: window.innerHeight,
  }));
  assert.ok(sizes.scrollH <= sizes.h && sizes.bodyH <= sizes.h && sizes.scrollW <= sizes.w,
    `${what}: the page is larger than the screen: ${JSON.stringify(sizes)}`);
}

// Every visible button, key and job row is at least 48 x 48 CSS pixels.
export async function assertTouchTargets(page, what) {
  const small = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('button, .job, input')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue; // not shown
      if (r.width < 48 || r.height < 48) {
        out.push(`${el.id || el.className || el.tagName} ${Math.round(r.width)}x${Math.round(r.height)}`);
      }
    }
    return out;
  });
  assert.deepEqual(small, [], `${what}: touch targets under 48 px`);
}

// Nothing of the user in the browser: no web storage, no IndexedDB, no script-visible cookie.
export async function assertNoStorage(page, what) {
  const left = await page.evaluate(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    idb: indexedDB.databases ? (await indexedDB.databases()).length : 0,
    cookie: document.cookie,
  }));
  assert.deepEqual(left, { local: 0, session: 0, idb: 0, cookie: '' }, `${what}: storage left`);
}

// None of the given job titles (or the user's address) is in the page text or its DOM.
export async function assertNothingOf(page, words, what) {
  const text = await pageText(page);
  const html = await page.evaluate(() => document.documentElement.outerHTML);
  for (const word of words) {
    assert.ok(!text.includes(word), `${what}: "${word}" is still shown`);
    assert.ok(!html.includes(word), `${what}: "${word}" is still in the page`);
  }
}

// Job titles shown in the list, in order.
export async function listedTitles(page) {
  return page.$$eval('#job-list .job-title', (els) => els.map((e) => e.textContent));
}

// The browser's own "Failed to load resource" line for an answer the scenario asked for
// (a wrong code is a 401) is not a script error; everything else is.
export function scriptErrors(context) {
  return context.pageErrors.filter((e) =>
    !/^console: Failed to load resource: the server responded with a status of (401|429)/.test(e));
}

// Collects the answers >= 400 a page got ("401 https://…/api/v1/login"), to name them when a
// "Failed to load resource" line shows up among the page errors.
export function watchFailures(page) {
  const failures = [];
  page.on('response', (r) => { if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`); });
  return failures;
}

// The panel token in a panel address ("?t=ppk_…", or "?token=ppk_…" as the CLI prints it).
export function panelToken(panelPath) {
  const query = new URL(panelPath, 'https://panel.invalid').searchParams;
  return query.get('t') || query.get('token');
}
