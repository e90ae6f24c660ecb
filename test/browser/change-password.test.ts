import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertAccessible,
  assertNoConsoleErrors,
  assertSecurityLogHas,
  logIn,
  logOut,
  PHONE,
  phoneCheck,
  screenshotBothSchemes,
  sharedBrowserAndServer,
  signUp,
  submitLogin,
} from './harness.js';

const GROUP = 'change-password';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase';
const shared = sharedBrowserAndServer('changer');

test('change the password from Account settings; the old one stops working, another browser is logged out', async (t) => {
  const o = await shared.open(t);
  if (!o) return;
  const { page, base, browser } = o;
  const address = shared.email();
  await signUp(page, base, address, PASSWORD);

  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await logIn(otherPage, base, address, PASSWORD);

  await page.getByRole('region', { name: 'Password' }).getByRole('link', { name: 'Change password' }).click();
  await page.waitForURL(`${base}/settings/password`);
  await assertAccessible(page, 'change password');

  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  const current = page.getByLabel('Current password');
  assert.equal(await current.getAttribute('aria-invalid'), 'true');
  assert.match((await page.locator('#field-currentPassword-error').textContent()) ?? '', /not your password/);
  await screenshotBothSchemes(page, GROUP, 'wrong-current');

  await current.fill(PASSWORD);
  await page.getByLabel('New password').fill('baseball');
  await page.getByRole('button', { name: 'Change password' }).click();
  assert.equal(await page.getByLabel('New password').getAttribute('aria-invalid'), 'true');
  assert.match((await page.locator('#field-newPassword-error').textContent()) ?? '', /common/i);
  await assertAccessible(page, 'change password with errors');

  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.waitForURL(`${base}/settings?notice=password_changed`);
  assert.match((await page.getByRole('status').first().textContent()) ?? '', /password was changed/i);
  await assertSecurityLogHas(page, ['Password changed']);
  await screenshotBothSchemes(page, GROUP, 'changed');
  assertNoConsoleErrors(page);

  await otherPage.goto(`${base}/settings`);
  await otherPage.waitForURL(/\/login\?next=/);
  await submitLogin(otherPage, address, PASSWORD);
  assert.equal(await otherPage.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true', 'the old password no longer works');
  await submitLogin(otherPage, address, NEW_PASSWORD);
  await otherPage.waitForURL(`${base}/settings`);
  await other.close();

  await logOut(page, base);
  await o.context.close();
});

test('the change-password page on a phone', async (t) => {
  const o = await shared.open(t, PHONE);
  if (!o) return;
  const { page, base } = o;
  await signUp(page, base, shared.email(), PASSWORD);
  await page.goto(`${base}/settings/password`);
  await phoneCheck(page, GROUP)('change-password');
  await o.context.close();
});
