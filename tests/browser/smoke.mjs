// smoke.mjs - each app's page loads in Chromium from the server, with its stylesheet and
// without a script error, on a phone and on a small panel screen.
import assert from 'node:assert/strict';
import { url, launch, newContext, shot, step, done, run, SCREENS } from './lib.mjs';

run(async () => {
  const browser = await launch();
  const loaded = {};
  for (const [screenName, screen] of [['phone', SCREENS.phone], ['panel', SCREENS.panelSmall]]) {
    const context = await newContext(browser, screen);
    const page = await context.newPage();
    for (const app of ['portal', 'panel', 'admin']) {
      step(`${app} on ${screenName}`);
      const response = await page.goto(`${url}/${app}/`);
      assert.equal(response.status(), 200);
      assert.match(await page.title(), /Pullprint/);
      const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
      assert.ok(font.length > 0, 'the shared stylesheet did not apply');
      await shot(page, `${app}-${screenName}`);
      loaded[app] = true;
    }
    assert.deepEqual(context.pageErrors, []);
    await context.close();
  }
  await browser.close();
  done({ loaded });
});
