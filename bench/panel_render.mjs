// panel_render.mjs - the browser half of bench/panel_render: headless Chromium at 800x480
// signs in on the panel with the keypad, over and over, and measures in the page the time
// from the sign-in (the last digit of the code: the panel submits at once) to the frame in
// which the job list holds all the user's entries. Run by bench/panel_render, which starts
// the server; it uses tests/browser/lib.mjs (playwright-core from tests/browser).
//
// PP_URL, PP_PARAMS {panelPath, code, jobs, runs, warmup}
// RESULT {times_ms: [...]} (warm-up runs left out)
import assert from 'node:assert/strict';
import { url, params, launch, newContext, done, run, SCREENS } from '../tests/browser/lib.mjs';

run(async () => {
  const browser = await launch();
  const context = await newContext(browser, SCREENS.panelSmall);
  const page = await context.newPage();
  const times = [];
  const code = String(params.code);
  for (let i = 0; i < params.warmup + params.runs; i++) {
    await page.goto(url + params.panelPath);
    await page.waitForSelector('#screen-signin:not([hidden])');
    for (const d of code.slice(0, -1)) await page.click(`#keypad .key[data-key="${d}"]`);
    const last = await page.$(`#keypad .key[data-key="${code.slice(-1)}"]`);
    const ms = await page.evaluate(([key, n]) => new Promise((resolve, reject) => {
      const list = document.getElementById('job-list');
      const timer = setTimeout(() => reject(new Error('the list did not render')), 30000);
      let t0 = 0;
      const observer = new MutationObserver(() => {
        if (list.querySelectorAll('.job').length < n) return;
        observer.disconnect();
        // The entries are in the DOM; the next frame paints them.
        requestAnimationFrame(() => {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        });
      });
      observer.observe(list, { childList: true });
      t0 = performance.now();
      key.click();
    }), [last, params.jobs]);
    assert.equal(await page.locator('#job-list .job').count(), params.jobs);
    if (i >= params.warmup) times.push(ms);
    await Promise.all([page.waitForNavigation(), page.click('#signout')]);
  }
  assert.deepEqual(context.pageErrors, []);
  await context.close();
  await browser.close();
  done({ times_ms: times });
});
