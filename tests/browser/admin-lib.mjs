// admin-lib.mjs - what the admin console scenarios share: signing in, moving between pages,
// and the page errors that count (a 4xx the scenario provoked on purpose is logged by
// Chromium as "Failed to load resource"; those, and only those, are expected).
import assert from 'node:assert/strict';
import { url } from './lib.mjs';

export async function signIn(page, name, password) {
  await page.goto(`${url}/admin/`);
  await page.locator('#signin-form').waitFor();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#dashboard .card').first().waitFor();
}

// Opens a page through the navigation (on a phone, through the menu first).
export async function open(page, label) {
  const menu = page.locator('#menu-button');
  if (await menu.isVisible()) await menu.click();
  await page.locator('#nav').getByRole('link', { name: label }).click();
  await page.locator('main h1', { hasText: label }).waitFor();
}

// The page errors other than the HTTP statuses the scenario provoked on purpose.
export function unexpectedErrors(context, expectedStatuses = []) {
  return context.pageErrors.filter((text) => !expectedStatuses.some((status) =>
    text.includes(`Failed to load resource: the server responded with a status of ${status}`)));
}

export function assertNoPageErrors(context, expectedStatuses = []) {
  assert.deepEqual(unexpectedErrors(context, expectedStatuses), []);
}
