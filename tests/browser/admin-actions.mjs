// admin-actions.mjs - the console's row actions not driven elsewhere: users (add, disable,
// new code, delete), jobs (cancel, reprint a completed job to a chosen printer, delete) and
// printers (edit, disable, remove). Each waits for what the page shows after the server
// answered; test_admin_console.py then checks the server's state from Python.
import assert from 'node:assert/strict';
import { params, launch, newContext, shot, step, done, run, SCREENS } from './lib.mjs';
import { signIn, open, assertNoPageErrors } from './admin-lib.mjs';

// Presses OK in the console's confirmation dialog.
async function confirm(page) {
  const ok = page.locator('#confirm-ok');
  await ok.waitFor();
  await ok.click();
}

run(async () => {
  const browser = await launch();
  const context = await newContext(browser, SCREENS.desktop);
  const page = await context.newPage();
  const result = {};
  await signIn(page, params.admin, params.password);

  step('users: add, disable, new code, delete');
  await open(page, 'Users');
  const add = page.locator('#add-user');
  await add.getByLabel('Address').fill(params.newUser);
  await add.getByRole('button', { name: 'Add user' }).click();
  const row = page.locator(`tr[data-user="${params.newUser}"]`);
  await row.waitFor();
  await row.getByRole('button', { name: 'Disable' }).click();
  await page.locator(`tr[data-user="${params.newUser}"] .badge`, { hasText: 'disabled' }).waitFor();
  result.disabledBadge = await page.locator(`tr[data-user="${params.newUser}"] .badge`).textContent();
  await page.locator(`tr[data-user="${params.newUser}"]`).getByRole('button', { name: 'New code' }).click();
  await page.locator('.message', { hasText: 'A new code was mailed' }).waitFor();
  await shot(page, 'admin-actions-users');
  await page.locator(`tr[data-user="${params.newUser}"]`).getByRole('button', { name: 'Delete' }).click();
  await confirm(page);
  await page.locator(`tr[data-user="${params.newUser}"]`).waitFor({ state: 'detached' });

  step('jobs: cancel, reprint, delete');
  await open(page, 'Jobs');
  await page.locator('#jobs-table').waitFor();
  await page.locator(`tr[data-job="${params.cancelJob}"]`).getByRole('button', { name: 'Cancel' }).click();
  await page.locator(`tr[data-job="${params.cancelJob}"] .badge`, { hasText: 'canceled' }).waitFor();
  const reprintRow = page.locator(`tr[data-job="${params.reprintJob}"]`);
  await reprintRow.getByLabel(`Printer for job ${params.reprintJob}`).selectOption({ label: params.reprintPrinter });
  await reprintRow.getByRole('button', { name: 'Reprint' }).click();
  await page.locator('.message', { hasText: `Job ${params.reprintJob} is sent to ${params.reprintPrinter}` }).waitFor();
  result.reprintNote = await page.locator('.message', { hasText: 'is sent to' }).textContent();
  await page.locator(`tr[data-job="${params.deleteJob}"]`).getByRole('button', { name: 'Delete' }).click();
  await confirm(page);
  await page.locator(`tr[data-job="${params.deleteJob}"]`).waitFor({ state: 'detached' });
  await shot(page, 'admin-actions-jobs');

  step('printers: edit, disable, remove');
  await open(page, 'Printers');
  const spare = () => page.locator(`tr[data-printer="${params.sparePrinter}"]`);
  await spare().waitFor();
  await spare().getByRole('button', { name: 'Edit' }).click();
  const form = page.locator('tr.edit-row form');
  await form.getByLabel('Location').fill(params.spareLocation);
  await form.getByRole('button', { name: 'Save' }).click();
  await spare().locator('td', { hasText: params.spareLocation }).waitFor();
  await spare().getByRole('button', { name: 'Disable' }).click();
  await spare().getByRole('button', { name: 'Enable' }).waitFor();
  result.spareBadge = await spare().locator('.badge').textContent();
  await shot(page, 'admin-actions-printers');
  await spare().getByRole('button', { name: 'Remove' }).click();
  await confirm(page);
  await spare().waitFor({ state: 'detached' });
  assert.equal(await spare().count(), 0);

  assertNoPageErrors(context);
  await context.close();
  await browser.close();
  done(result);
});
