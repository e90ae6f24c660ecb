import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { manualClock } from '../../src/core/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TestSmtp } from '../helpers/smtp.js';
import { requireCommand } from '../helpers/tools.js';
import { API, enableTwoFactor, nextStep, oathtool, PASSWORD } from '../helpers/totp.js';
import { assertAccessible, assertNoConsoleErrors, launchBrowser, newContext, newPage, PHONE, phoneCheck, submitLogin } from './harness.js';

const GROUP = 'mail';
const NEW_PASSWORD = 'a brand new passphrase';

describe('mail pages in Chromium: forgot → reset with a TOTP code from oathtool, This wasn’t me, email in settings', () => {
  const clock = manualClock(Date.now());
  let smtp: TestSmtp;
  let server: TestServer;
  let browser: Browser | null = null;
  before(async () => {
    smtp = await TestSmtp.start();
    server = await startTestServer('sqlite', { clock, publicHost: true, env: { TWOFOLD_SMTP_URL: smtp.url }, mail: { pollMs: 100 } });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await smtp?.down();
  });

  test('forgot password → link in mail → new password and a code from oathtool → log in', async (t) => {
    if (!requireCommand(t, 'oathtool')) return;
    browser = await launchBrowser(t);
    if (!browser) return;
    const base = server.publicUrl;
    const address = 'browser-reset@example.com';
    const api = server.client();
    assert.equal((await api.post(`${API}/signup`, { email: address, password: PASSWORD })).status, 201);
    nextStep(clock);
    const { secret } = await enableTwoFactor(api, clock);

    const page = await newPage(await newContext(browser, PHONE));
    const phone = phoneCheck(page, GROUP);
    await page.goto(`${base}/login`);
    await page.getByRole('link', { name: 'Forgot password?', exact: true }).click();
    await page.waitForURL(`${base}/password/forgot`);
    await assertAccessible(page, 'forgot password');
    await page.getByLabel('Email', { exact: true }).fill(address);
    await page.getByRole('button', { name: 'Send reset link', exact: true }).click();
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /If an account exists/);
    await phone('forgot-sent');

    const mail = await smtp.find(address, /Reset your password/);
    await page.goto(base + TestSmtp.link(mail, '/password/reset'));
    await assertAccessible(page, 'reset password');
    assert.equal(await page.getByRole('link', { name: 'Use a recovery code', exact: true }).count(), 1);
    await phone('reset');
    // A wrong code: refused next to the field, nothing changes.
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Verification code', { exact: true }).fill(oathtool(secret, clock.now() - 10 * 60_000));
    await page.getByRole('button', { name: 'Set new password', exact: true }).click();
    assert.equal(await page.getByLabel('Verification code', { exact: true }).getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'reset password with a wrong code');

    nextStep(clock);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Verification code', { exact: true }).fill(oathtool(secret, clock.now()));
    await page.getByRole('button', { name: 'Set new password', exact: true }).click();
    await page.waitForURL(`${base}/login?reset=1`);
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /password was changed/);
    await phone('reset-done');

    await submitLogin(page, address, NEW_PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    nextStep(clock);
    await page.getByLabel('Verification code', { exact: true }).fill(oathtool(secret, clock.now()));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(`${base}/settings`);
    const email = page.getByRole('region', { name: 'Email address', exact: true });
    assert.match((await email.textContent()) ?? '', /verified/, 'a reset proves the address');
    assertNoConsoleErrors(page);
  });

  test('This wasn’t me → Secure my account → every session ends, the next login asks for a reset', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const base = server.publicUrl;
    const address = 'browser-secure@example.com';
    const page = await newPage(await newContext(browser, PHONE));
    const phone = phoneCheck(page, GROUP);
    await page.goto(`${base}/signup`);
    await page.getByLabel('Email', { exact: true }).fill(address);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await page.waitForURL(`${base}/settings`);

    // Settings: the address, not verified, a resend button and Change email.
    const email = page.getByRole('region', { name: 'Email address', exact: true });
    assert.match((await email.textContent()) ?? '', /not verified/);
    assert.equal(await email.getByRole('button', { name: 'Resend confirmation email', exact: true }).count(), 1);
    await email.getByRole('link', { name: 'Change email', exact: true }).click();
    await page.waitForURL(`${base}/settings/email`);
    await assertAccessible(page, 'change email');
    await page.getByLabel('Email address', { exact: true }).fill('browser-secure-new@example.com');
    await page.getByRole('button', { name: 'Change email', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=email_change_sent#email`);
    await assertAccessible(page, 'settings with the email section');

    // The verification link of the signup, opened in this browser.
    const verify = await smtp.find(address, /Confirm your email address/);
    await page.goto(base + TestSmtp.link(verify, '/email/verify'));
    assert.equal(await page.getByRole('heading', { name: 'Email address confirmed' }).count(), 1);
    await assertAccessible(page, 'email confirmed');

    // A security notice: an app was added (API, same account).
    const api = server.client();
    assert.equal((await api.post(`${API}/login`, { email: address, password: PASSWORD })).status, 200);
    nextStep(clock);
    await enableTwoFactor(api, clock);
    const notice = await smtp.find(address, /Two-factor authentication was turned on/);
    await page.goto(base + TestSmtp.link(notice, '/account/secure'));
    await assertAccessible(page, 'secure my account');
    await phone('secure');
    await page.getByRole('button', { name: 'Secure my account', exact: true }).click();
    await page.waitForURL(`${base}/login?secured=1`).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${page.url()}\n${(await page.locator('main').textContent()) ?? ''}`);
    });
    assert.equal((await api.get(`${API}/me`)).status, 401, 'the other session ended');

    await submitLogin(page, address, PASSWORD);
    assert.match((await page.getByRole('alert').first().textContent()) ?? '', /choose a new password/i);
    await assertAccessible(page, 'login asking for a reset');
    await smtp.find(address, /Choose a new password/);
    assertNoConsoleErrors(page);
  });
});
