import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { manualClock } from '../../src/core/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TestSmtp } from '../helpers/smtp.js';
import { signupWithTwoFactor } from '../helpers/totp.js';
import { assertAccessible, assertNoConsoleErrors, launchBrowser, openTwoFactorSetup, newContext, newPage, PHONE, phoneCheck, screenshotBothSchemes, submitLogin } from './harness.js';

const GROUP = 'account-recovery';
// A short wait, as a demo would use; the server's clock is a manual one, so nothing sleeps.
const DELAY_MS = 20_000;

let browser: Browser | null = null;
let server: TestServer | undefined;
let smtp: TestSmtp | undefined;
after(async () => {
  await browser?.close();
  await server?.close();
  await smtp?.down();
});

async function waitForMail(to: string, subject: RegExp): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const m = smtp!.to(to).filter((x) => subject.test(x.parsed.subject ?? ''));
    if (m.length) return m.at(-1)!.parsed.text ?? '';
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail matching ${subject}`);
}

test('lost everything: start from the second-factor page, confirm by mail, wait, log in, set up again', async (t) => {
  browser = await launchBrowser(t);
  if (!browser) return;
  const clock = manualClock(Date.UTC(2026, 2, 1, 8));
  smtp = await TestSmtp.start();
  server = await startTestServer('sqlite', { clock, publicHost: true, env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_RECOVERY_DELAY: '20s' }, mail: { pollMs: 50 } });
  const base = server.publicUrl;
  const user = await signupWithTwoFactor(server, clock, 'lost-everything@example.com');

  const context = await newContext(browser);
  const page = await newPage(context);
  await page.goto(`${base}/login`);
  await submitLogin(page, user.email, user.password);
  await page.waitForURL(`${base}/login/two-factor`);
  await page.getByRole('link', { name: 'Lost access to your authenticator and recovery codes?' }).click();
  await page.waitForURL(`${base}/login/recovery`);
  await page.getByRole('heading', { name: 'Recover your account', level: 1 }).waitFor();
  await assertAccessible(page, 'start recovery');
  await screenshotBothSchemes(page, GROUP, 'start');
  await page.getByRole('button', { name: 'Start account recovery' }).click();
  await page.waitForURL(`${base}/login/recovery`);
  assert.match((await page.locator('main').textContent()) ?? '', /We sent a link to your email address/);

  const confirmText = await waitForMail(user.email, /confirm your account recovery/i);
  const confirmUrl = /https?:\/\/\S+\/account\/recovery\/confirm\?token=\S+/.exec(confirmText)?.[0];
  assert.ok(confirmUrl, confirmText);
  await page.goto(confirmUrl);
  await page.getByRole('heading', { name: 'Account recovery scheduled', level: 1 }).waitFor();
  await assertAccessible(page, 'recovery scheduled');
  await screenshotBothSchemes(page, GROUP, 'scheduled');
  const startedText = await waitForMail(user.email, /account recovery started/i);
  assert.match(startedText, /Cancel recovery/);

  // Before the wait is over the password alone still asks for a second factor.
  await page.goto(`${base}/login`);
  await submitLogin(page, user.email, user.password);
  await page.waitForURL(`${base}/login/two-factor`);

  clock.advance(DELAY_MS);
  await page.goto(`${base}/login`);
  await submitLogin(page, user.email, user.password);
  await page.waitForURL(`${base}/settings?notice=account_recovered`);
  assert.match((await page.getByRole('status').first().textContent()) ?? '', /account was recovered/i);
  await assertAccessible(page, 'recovered');
  await screenshotBothSchemes(page, GROUP, 'recovered');
  await openTwoFactorSetup(page, base);
  await page.getByRole('img', { name: /QR code/ }).waitFor();
  await waitForMail(user.email, /account was recovered/i);
  await page.goto(`${base}/settings`);
  assert.match((await page.getByRole('region', { name: 'Security log' }).textContent()) ?? '', /Account recovered/);
  assertNoConsoleErrors(page);
  await context.close();

  // The page on a phone, and the cancel page reached from a mailed link.
  const phone = await newContext(browser, PHONE);
  const p2 = await newPage(phone);
  const other = await signupWithTwoFactor(server, clock, 'lost-on-phone@example.com');
  await p2.goto(`${base}/login`);
  await submitLogin(p2, other.email, other.password);
  await p2.waitForURL(`${base}/login/two-factor`);
  await p2.goto(`${base}/login/recovery`);
  await phoneCheck(p2, GROUP)('start-phone');
  await p2.getByRole('button', { name: 'Start account recovery' }).click();
  const text = await waitForMail(other.email, /confirm your account recovery/i);
  await p2.goto(/https?:\/\/\S+\/account\/recovery\/confirm\?token=\S+/.exec(text)![0]);
  const started = await waitForMail(other.email, /account recovery started/i);
  await p2.goto(/https?:\/\/\S+\/account\/recovery\/cancel\?token=\S+/.exec(started)![0]);
  await assertAccessible(p2, 'cancel recovery');
  await p2.getByRole('button', { name: 'Cancel recovery' }).click();
  await p2.getByRole('heading', { name: 'Account recovery cancelled', level: 1 }).waitFor();
  assertNoConsoleErrors(p2);
  await phone.close();
});
