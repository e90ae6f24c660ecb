import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { requireCommand } from '../helpers/tools.js';
import { Authenticator, userIdOf } from '../helpers/totp.js';
import {
  assertAccessible,
  assertNoConsoleErrors,
  launchBrowser,
  newContext,
  newPage,
  PHONE,
  phoneCheck,
  screenshotBothSchemes,
  signUp,
  submitLogin,
} from './harness.js';

const GROUP = 'admin';
const PASSWORD = 'correct horse battery';

async function setup(t: TestContext, env: Record<string, string> = {}): Promise<{ browser: Browser; server: TestServer } | null> {
  if (!requireCommand(t, 'oathtool')) return null;
  const browser = await launchBrowser(t);
  if (!browser) return null;
  const server = await startTestServer('sqlite', { publicHost: true, env });
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  return { browser, server };
}

/** On the page that offers it: Setup two-factor authentication → secret as text → oathtool code → Done. */
async function setUpTwoFactorHere(page: Page, base: string): Promise<Authenticator> {
  await page.getByRole('button', { name: 'Setup two-factor authentication', exact: true }).first().click();
  await page.waitForURL(`${base}/settings/two-factor/setup`);
  const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  const app = new Authenticator(secret);
  await page.getByLabel('Verification code', { exact: true }).fill(await app.next());
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Done', exact: true }).click();
  await page.waitForURL(/\/settings/);
  return app;
}

test('an administrator locks and unlocks a person from the admin pages (no JavaScript)', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { browser, server } = s;
  const base = server.publicUrl;

  const person = await newContext(browser, { javaScriptEnabled: false });
  const personPage = await newPage(person);
  await signUp(personPage, base, 'person@example.com', PASSWORD);

  const context = await newContext(browser, { javaScriptEnabled: false });
  const page = await newPage(context);
  await signUp(page, base, 'boss@example.com', PASSWORD);
  await page.goto(`${base}/admin`);
  assert.match((await page.locator('main').textContent()) ?? '', /Only administrators/);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await (server.ctx.db as any).insertInto('user_groups').values({ user_id: await userIdOf(server, 'boss@example.com'), name: 'admins', created_at: Date.now() }).execute();
  await page.goto(`${base}/admin`);
  assert.match((await page.locator('main').textContent()) ?? '', /two-factor authentication first/, 'an admin without 2FA is refused');
  await page.goto(`${base}/settings`);
  await setUpTwoFactorHere(page, base);

  await page.goto(`${base}/settings`);
  await page.getByRole('region', { name: 'Administration' }).getByRole('link', { name: 'Manage users' }).click();
  await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill('person@');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(`${base}/admin?q=person%40`);
  const rows = page.getByRole('region', { name: 'Accounts' }).getByRole('listitem');
  assert.equal(await rows.count(), 1);
  assert.match((await rows.first().textContent()) ?? '', /person@example\.com.*2FA: Off.*Groups: none.*Last sign-in/s);
  await screenshotBothSchemes(page, GROUP, 'users');

  await rows.first().getByRole('link', { name: 'person@example.com' }).click();
  await page.getByRole('heading', { name: 'person@example.com', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Lock account', exact: true }).click();
  await page.getByRole('button', { name: 'Unlock account', exact: true }).waitFor();
  assert.match((await page.getByRole('status').first().textContent()) ?? '', /account is locked/);
  await screenshotBothSchemes(page, GROUP, 'locked');

  // The person's session ended, and the login says the account is locked (after the password).
  await personPage.goto(`${base}/settings`);
  await personPage.waitForURL(/\/login\?next=/);
  await submitLogin(personPage, 'person@example.com', PASSWORD);
  assert.match((await personPage.locator('main').textContent()) ?? '', /account is locked/);

  await page.getByRole('button', { name: 'Unlock account', exact: true }).click();
  await page.getByRole('button', { name: 'Lock account', exact: true }).waitFor();
  await submitLogin(personPage, 'person@example.com', PASSWORD);
  await personPage.waitForURL(/\/settings/);

  await page.goto(`${base}/admin/audit-log`);
  const log = (await page.locator('main').textContent()) ?? '';
  assert.match(log, /Unlocked the account: person@example\.com.*Locked the account: person@example\.com/s);
  assert.match(log, /by boss@example\.com/);
  await personPage.goto(`${base}/settings`);
  const personLog = (await personPage.getByRole('region', { name: 'Security log' }).textContent()) ?? '';
  assert.match(personLog, /Account unlocked by an administrator/);
  assert.match(personLog, /Account locked by an administrator/);
  assertNoConsoleErrors(page);
  await person.close();
  await context.close();
});

test('the admin pages are accessible and fit a phone', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { browser, server } = s;
  const base = server.publicUrl;
  const context = await newContext(browser, PHONE);
  const page = await newPage(context);
  await signUp(page, base, 'phone-admin@example.com', PASSWORD);
  await setUpTwoFactorHere(page, base);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await (server.ctx.db as any).insertInto('user_groups').values({ user_id: await userIdOf(server, 'phone-admin@example.com'), name: 'admins', created_at: Date.now() }).execute();
  const check = phoneCheck(page, GROUP);
  await page.goto(`${base}/admin`);
  await assertAccessible(page, 'users');
  await check('users');
  await page.getByRole('link', { name: 'phone-admin@example.com' }).click();
  await page.getByRole('heading', { name: 'phone-admin@example.com', level: 1 }).waitFor();
  await assertAccessible(page, 'user');
  await check('user');
  await page.getByRole('button', { name: 'Sign out everywhere', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Reset two-factor authentication', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Delete account', exact: true }).waitFor();
  await page.goto(`${base}/admin/audit-log`);
  await assertAccessible(page, 'audit log');
  await check('audit-log');
  assertNoConsoleErrors(page);
  await context.close();
});

test('required 2FA: after the grace period every page leads to the setup; the banner during it', async (t) => {
  const s = await setup(t, { TWOFOLD_REQUIRE_2FA: 'all', TWOFOLD_REQUIRE_2FA_GRACE: '0' });
  if (!s) return;
  const { browser, server } = s;
  const base = server.publicUrl;
  const context = await newContext(browser, { javaScriptEnabled: false });
  const page = await newPage(context);
  await page.goto(`${base}/signup`);
  await page.getByLabel('Email', { exact: true }).fill('must@example.com');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.waitForURL(`${base}/settings/two-factor/required`);
  await page.getByRole('heading', { name: 'Set up two-factor authentication', level: 1 }).waitFor();
  await screenshotBothSchemes(page, GROUP, 'required');
  for (const path of ['/settings', '/settings/sessions', '/settings/password']) {
    await page.goto(`${base}${path}`);
    await page.waitForURL(`${base}/settings/two-factor/required`);
  }
  await setUpTwoFactorHere(page, base);
  await page.goto(`${base}/settings/sessions`);
  await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
  await context.close();

  // During a grace period: a banner on every signed-in page, and nothing is blocked.
  const graceServer = await startTestServer('sqlite', { publicHost: true, env: { TWOFOLD_REQUIRE_2FA: 'all', TWOFOLD_REQUIRE_2FA_GRACE: '7d' } });
  t.after(() => graceServer.close());
  const graceContext = await newContext(browser);
  const gracePage = await newPage(graceContext);
  await signUp(gracePage, graceServer.publicUrl, 'later@example.com', PASSWORD);
  const banner = gracePage.getByRole('status').filter({ hasText: 'requires two-factor authentication' });
  assert.match((await banner.textContent()) ?? '', /Set it up by .* UTC/);
  await assertAccessible(gracePage, 'settings with the grace banner');
  await gracePage.goto(`${graceServer.publicUrl}/settings/sessions`);
  await banner.waitFor();
  await screenshotBothSchemes(gracePage, GROUP, 'grace-banner');
  await graceContext.close();
});
