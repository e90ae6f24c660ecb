import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertAccessible,
  assertNoConsoleErrors,
  assertSecurityLogHas,
  logIn,
  newContext,
  newPage,
  PHONE,
  phoneCheck,
  screenshotBothSchemes,
  sharedBrowserAndServer,
  signUp,
} from './harness.js';

const GROUP = 'sessions';
const PASSWORD = 'correct horse battery';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const shared = sharedBrowserAndServer('sessions');

test('the sessions page: each session with browser, system and IP; sign out one, then all others (no JavaScript)', async (t) => {
  const o = await shared.open(t, { javaScriptEnabled: false });
  if (!o) return;
  const { page, base, browser } = o;
  const address = shared.email();
  await signUp(page, base, address, PASSWORD);

  const firefox = await newContext(browser, { userAgent: FIREFOX });
  const firefoxPage = await newPage(firefox);
  await logIn(firefoxPage, base, address, PASSWORD);
  await firefoxPage.waitForURL(`${base}/settings`);
  const safari = await newContext(browser, { userAgent: SAFARI });
  const safariPage = await newPage(safari);
  await logIn(safariPage, base, address, PASSWORD);
  await safariPage.waitForURL(`${base}/settings`);

  await page.getByRole('region', { name: 'Sessions' }).getByRole('link', { name: 'Manage sessions' }).click();
  await page.waitForURL(`${base}/settings/sessions`);
  await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
  const items = page.getByRole('region', { name: 'Signed-in sessions' }).getByRole('listitem');
  assert.equal(await items.count(), 3);
  const first = (await items.first().textContent()) ?? '';
  assert.match(first, /This session/);
  assert.match(first, /Chrome \d+ on Linux/);
  const texts = (await items.allTextContents()).join('\n');
  assert.match(texts, /Firefox 133 on Windows/);
  assert.match(texts, /Safari 17 on iOS 17\.4/);
  assert.match(texts, /IP address 127\.0\.0\.1/);
  assert.match(texts, /Started .* UTC/);
  assert.match(texts, /Last active .* UTC/);
  assert.equal(await items.first().getByRole('button', { name: 'Sign out' }).count(), 0, 'no Sign out on this session');
  await screenshotBothSchemes(page, GROUP, 'three-sessions');

  // The Sign out button is described by its session's name.
  const firefoxItem = items.filter({ hasText: 'Firefox 133' });
  await firefoxItem.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(`${base}/settings/sessions?notice=signed_out`);
  assert.equal(await items.count(), 2);
  await firefoxPage.goto(`${base}/settings`);
  await firefoxPage.waitForURL(/\/login\?next=/);

  await page.getByRole('button', { name: 'Sign out all other sessions', exact: true }).click();
  await page.waitForURL(`${base}/settings/sessions?notice=signed_out_others`);
  assert.equal(await items.count(), 1);
  assert.match((await page.getByRole('status').first().textContent()) ?? '', /Every other session was signed out/);
  await safariPage.goto(`${base}/settings`);
  await safariPage.waitForURL(/\/login\?next=/);

  await page.goto(`${base}/settings`);
  await assertSecurityLogHas(page, ['Signed out a session', 'Signed out all other sessions']);
  assertNoConsoleErrors(page);
  await firefox.close();
  await safari.close();
  await o.context.close();
});

test('delete my account from Account settings (no JavaScript): password, then gone', async (t) => {
  const o = await shared.open(t, { javaScriptEnabled: false });
  if (!o) return;
  const { page, base } = o;
  const address = shared.email();
  await signUp(page, base, address, PASSWORD);
  await page.getByRole('region', { name: 'Delete account' }).getByRole('link', { name: 'Delete account' }).click();
  await page.waitForURL(`${base}/settings/delete-account`);
  await page.getByLabel('Password', { exact: true }).fill('not my password');
  await page.getByRole('button', { name: 'Delete account', exact: true }).click();
  assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Delete account', exact: true }).click();
  await page.waitForURL(`${base}/login?account_deleted=1`);
  assert.match((await page.getByRole('status').first().textContent()) ?? '', /account was deleted/);
  await logIn(page, base, address, PASSWORD);
  assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true', 'the account is gone');
  await o.context.close();
});

// axe needs JavaScript in the page, so the accessibility checks run here.
test('the sessions and delete-account pages on a phone, and accessible', async (t) => {
  const o = await shared.open(t, { ...PHONE, userAgent: SAFARI });
  if (!o) return;
  const { page, base, browser } = o;
  const address = shared.email();
  await signUp(page, base, address, PASSWORD);
  const other = await newContext(browser, { userAgent: FIREFOX });
  await logIn(await newPage(other), base, address, PASSWORD);
  await page.goto(`${base}/settings/sessions`);
  await assertAccessible(page, 'sessions');
  await phoneCheck(page, GROUP)('sessions');
  await page.goto(`${base}/settings/delete-account`);
  await assertAccessible(page, 'delete account');
  await page.getByRole('button', { name: 'Delete account', exact: true }).click();
  assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
  await assertAccessible(page, 'delete account with an error');
  await phoneCheck(page, GROUP)('delete-account');
  assertNoConsoleErrors(page);
  await other.close();
  await o.context.close();
});
