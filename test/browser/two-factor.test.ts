import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startTestServer } from '../helpers/server.js';
import { Authenticator, userIdOf } from '../helpers/totp.js';
import {
  assertAccessible,
  assertNoConsoleErrors,
  assertSecurityLogHas,
  confirmTwoFactorSetup,
  describedByText,
  logIn,
  logOut,
  newContext,
  newPage,
  openTwoFactorSetup,
  PHONE,
  phoneCheck,
  RESULTS_DIR,
  screenshotBothSchemes,
  sharedBrowserAndServer,
  shownCodes,
  signUp,
  submitLogin,
  twoFactorSection,
} from './harness.js';

/**
 * The two-factor pages end to end in Chromium: the secret comes out of a screenshot of the QR code
 * (zbarimg) and every app code from oathtool, never from the project's own TOTP code.
 */

const SHOTS = 'two-factor';
const PASSWORD = 'quiet harbour compass 7';
const { email, setup, open } = sharedBrowserAndServer('tf', [
  ['zbarimg', 'zbar-tools'],
  ['oathtool', 'oathtool'],
]);

/** Screenshot of the QR code element → zbarimg → the otpauth URI → the secret. */
async function secretFromQrCode(page: Page, name: string, account: string): Promise<string> {
  const img = page.getByRole('img', { name: /QR code/ });
  const alt = (await img.getAttribute('alt')) ?? '';
  assert.match(alt, /QR code/);
  assert.ok(alt.includes(account), 'the QR code’s accessible name names the account');
  const path = join(RESULTS_DIR, SHOTS, `${name}-qr.png`);
  mkdirSync(join(RESULTS_DIR, SHOTS), { recursive: true });
  await img.screenshot({ path });
  const uri = execFileSync('zbarimg', ['--raw', '-q', path], { encoding: 'utf8' }).trim();
  assert.match(uri, /^otpauth:\/\/totp\//);
  const url = new URL(uri);
  assert.equal(decodeURIComponent(url.pathname.replace(/^\/+/, '')), `Twofold:${account}`);
  assert.equal(url.searchParams.get('issuer'), 'Twofold');
  assert.equal(url.searchParams.get('algorithm'), 'SHA1');
  assert.equal(url.searchParams.get('digits'), '6');
  assert.equal(url.searchParams.get('period'), '30');
  const secret = url.searchParams.get('secret') ?? '';
  assert.match(secret, /^[A-Z2-7]{32}$/);
  return secret;
}

/** Clicks Download and returns the file's name and text. */
async function download(page: Page): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download', exact: true }).click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), text: readFileSync(path, 'utf8') };
}

function codesInFile(text: string): string[] {
  return [...text.matchAll(/^([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})( \(used\))?$/gm)].map((m) => m[1]! + (m[2] ?? ''));
}

/** Account settings → Setup → scan → code → the 10 codes → Done. */
async function setUpTwoFactor(page: Page, base: string, address: string, shots: string): Promise<{ app: Authenticator; codes: string[] }> {
  await page.goto(`${base}/settings`);
  await openTwoFactorSetup(page, base);
  const secret = await secretFromQrCode(page, shots, address);
  const app = new Authenticator(secret);
  await confirmTwoFactorSetup(page, await app.next());
  const codes = await shownCodes(page);
  await page.getByRole('button', { name: 'Done', exact: true }).click();
  await page.waitForURL(`${base}/settings?notice=two_factor_on`);
  return { app, codes };
}

describe('two-factor pages', () => {
  test('set up, log in with a code and trust the device, recovery code, view, regenerate, disable, set up again', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context: first, page } = s;
    const address = email('journey');

    // Sign up, then Account settings.
    await signUp(page, base, address, PASSWORD);
    await page.getByRole('banner').getByRole('link', { name: 'Account settings', exact: true }).click();
    await page.waitForURL(`${base}/settings`);
    assert.match((await twoFactorSection(page).textContent()) ?? '', /\bdisabled\b/);
    await screenshotBothSchemes(page, SHOTS, '01-settings-disabled');

    // Setup: the QR code and the same secret as text, grouped in fours.
    await openTwoFactorSetup(page, base);
    await page.getByRole('heading', { name: 'Set up two-factor authentication', level: 1 }).waitFor();
    const secret = await secretFromQrCode(page, '02-setup', address);
    const shownSecret = ((await page.locator('#totp-secret').textContent()) ?? '').trim();
    assert.match(shownSecret, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/, 'the secret is grouped in fours');
    assert.equal(shownSecret.replace(/ /g, ''), secret);
    assert.ok(((await page.locator('main').textContent()) ?? '').includes(address), 'the account is named for manual entry');
    const code = page.getByLabel('Verification code', { exact: true });
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    await assertAccessible(page, 'the setup page');
    await screenshotBothSchemes(page, SHOTS, '02-setup');

    // A reload shows the same pending secret.
    await page.reload();
    assert.equal((await page.locator('#totp-secret').textContent())?.trim(), shownSecret);

    // A wrong code: the error is next to the field, and nothing turned on.
    const app = new Authenticator(secret);
    await code.fill(app.wrongCode());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('#field-code-error').waitFor();
    assert.equal(await code.getAttribute('aria-invalid'), 'true');
    assert.match(await describedByText(page, code), /not right/);
    assert.equal(((await page.locator('#totp-secret').textContent()) ?? '').trim(), shownSecret, 'the same secret after an error');
    await assertAccessible(page, 'the setup page with an error');
    await screenshotBothSchemes(page, SHOTS, '03-setup-wrong-code');

    // The right code: the 10 recovery codes, once.
    await confirmTwoFactorSetup(page, await app.next());
    const codes = await shownCodes(page);
    const file = await download(page);
    assert.equal(file.name, 'twofold-recovery-codes.txt');
    assert.deepEqual(codesInFile(file.text), codes, 'the file has the 10 codes');
    assert.match(file.text, new RegExp(`Account: ${address.replace(/[.]/g, '\\.')}`));
    const copy = page.getByRole('button', { name: 'Copy', exact: true });
    assert.ok(await copy.isVisible(), 'with JavaScript, Copy is offered');
    await copy.click();
    await page.getByRole('status').filter({ hasText: /Copied|Could not copy/ }).waitFor();
    await assertAccessible(page, 'the recovery codes page');
    await screenshotBothSchemes(page, SHOTS, '04-recovery-codes');
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=two_factor_on`);
    const section = twoFactorSection(page);
    assert.match((await section.textContent()) ?? '', /\benabled\b/);
    assert.match((await section.textContent()) ?? '', /Authenticator app/);
    await section.getByRole('link', { name: 'View recovery codes', exact: true }).waitFor();
    await section.getByRole('button', { name: 'Regenerate recovery codes', exact: true }).waitFor();
    await section.getByRole('link', { name: 'Disable two-factor authentication', exact: true }).waitFor();
    await assertAccessible(page, 'the settings page with two-factor on');
    await screenshotBothSchemes(page, SHOTS, '05-settings-enabled');

    // The codes are not shown again: the setup page now leads back to the settings.
    await page.goto(`${base}/settings/two-factor/setup`);
    await page.waitForURL(`${base}/settings`);

    // Log out; log in with a code and trust this device.
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    await page.getByLabel('Verification code', { exact: true }).fill(await app.next());
    await page.getByLabel('Trust this device for 30 days', { exact: true }).check();
    await assertAccessible(page, 'the second-factor page');
    await screenshotBothSchemes(page, SHOTS, '06-login-code');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(`${base}/settings`);
    const devices = page.getByRole('region', { name: 'Trusted devices', exact: true });
    const device = devices.getByRole('listitem');
    assert.equal(await device.count(), 1);
    assert.match((await device.textContent()) ?? '', /This device/);
    assert.match((await device.textContent()) ?? '', /Chrome on Linux/);
    assert.match((await device.textContent()) ?? '', /Added .*Last used .*Expires /);
    await device.getByRole('button', { name: 'Revoke', exact: true }).waitFor();
    await assertAccessible(page, 'the settings page with a trusted device');
    await screenshotBothSchemes(page, SHOTS, '07-settings-trusted-device');

    // Log out and in again: no code on a trusted device.
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/settings`);

    // A second browser: log in with a recovery code.
    const second = await newContext(s.browser);
    const other = await newPage(second);
    await logIn(other, base, address, PASSWORD);
    await other.waitForURL(`${base}/login/two-factor`);
    await other.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
    await other.waitForURL(`${base}/login/two-factor?method=recovery_code`);
    await other.getByLabel('Recovery code', { exact: true }).fill(codes[0]!.toUpperCase().replace(/-/g, ' '));
    await other.getByRole('link', { name: 'Use a code from your authenticator app' }).waitFor();
    await assertAccessible(other, 'the second-factor page, recovery code');
    await screenshotBothSchemes(other, SHOTS, '08-login-recovery-code');
    await other.getByRole('button', { name: 'Verify', exact: true }).click();
    await other.waitForURL(`${base}/settings?codes_left=9`);
    await other.getByText('You have 9 recovery codes left.').waitFor();
    await screenshotBothSchemes(other, SHOTS, '09-settings-after-recovery-code');
    // A recovery-code login revokes every trusted device.
    assert.equal(await other.getByRole('region', { name: 'Trusted devices' }).getByRole('listitem').count(), 0);

    // View the codes (this session is fresh): one is marked used.
    await twoFactorSection(other).getByRole('link', { name: 'View recovery codes', exact: true }).click();
    await other.waitForURL(`${base}/settings/two-factor/recovery-codes`);
    const list = other.getByRole('list', { name: 'Your recovery codes' }).getByRole('listitem');
    assert.equal(await list.count(), 10);
    const items = (await list.allTextContents()).map((x) => x.replace(/\s+/g, ' ').trim());
    assert.equal(items[0], `${codes[0]} used`);
    assert.deepEqual(items.slice(1), codes.slice(1));
    await other.getByRole('heading', { name: '9 of 10 codes left' }).waitFor();
    const viewed = await download(other);
    assert.equal(viewed.name, 'twofold-recovery-codes.txt');
    assert.deepEqual(codesInFile(viewed.text), [`${codes[0]} (used)`, ...codes.slice(1)]);
    await assertAccessible(other, 'the view recovery codes page');
    await screenshotBothSchemes(other, SHOTS, '10-view-recovery-codes');

    // The first browser's trusted-device session is not fresh: viewing asks to confirm first.
    await page.goto(`${base}/settings`);
    await twoFactorSection(page).getByRole('link', { name: 'View recovery codes', exact: true }).click();
    await page.waitForURL(`${base}/reauthenticate?next=${encodeURIComponent('/settings/two-factor/recovery-codes')}`);
    await page.getByLabel('Verification code', { exact: true }).waitFor();
    await assertAccessible(page, 'the reauthenticate page');
    await screenshotBothSchemes(page, SHOTS, '11-reauthenticate');
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
    await page.getByLabel('Password', { exact: true }).fill('not my password');
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[1]!);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.locator('#field-password-error').waitFor();
    assert.match(await describedByText(page, page.getByLabel('Password', { exact: true })), /password is not right/);
    await assertAccessible(page, 'the reauthenticate page with an error');
    await screenshotBothSchemes(page, SHOTS, '12-reauthenticate-wrong-password');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[1]!);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.waitForURL(`${base}/settings/two-factor/recovery-codes`);
    await page.getByRole('heading', { name: '8 of 10 codes left' }).waitFor();

    // Regenerate: a new set, shown once; the old ones die.
    await page.getByRole('button', { name: 'Regenerate recovery codes', exact: true }).click();
    await page.getByRole('heading', { name: 'Your new recovery codes', level: 1 }).waitFor();
    const renewed = await shownCodes(page);
    assert.equal(renewed.filter((c) => codes.includes(c)).length, 0);
    const renewedFile = await download(page);
    assert.deepEqual(codesInFile(renewedFile.text), renewed);
    await assertAccessible(page, 'the new recovery codes page');
    await screenshotBothSchemes(page, SHOTS, '13-regenerated');
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=codes_regenerated`);
    await page.getByText('You have a new set of recovery codes.').waitFor();

    // Disable, from the second browser (fresh after its recovery-code login), with the password.
    await other.goto(`${base}/settings`);
    await twoFactorSection(other).getByRole('link', { name: 'Disable two-factor authentication', exact: true }).click();
    await other.waitForURL(`${base}/settings/two-factor/disable`);
    await other.getByLabel('Password', { exact: true }).fill('wrong password');
    await other.getByRole('button', { name: 'Disable two-factor authentication', exact: true }).click();
    await other.locator('#field-password-error').waitFor();
    assert.match(await describedByText(other, other.getByLabel('Password', { exact: true })), /password is not right/);
    await assertAccessible(other, 'the disable page with an error');
    await screenshotBothSchemes(other, SHOTS, '14-disable-wrong-password');
    await other.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await other.getByRole('button', { name: 'Disable two-factor authentication', exact: true }).click();
    await other.waitForURL(`${base}/settings?notice=two_factor_off`);
    assert.match((await twoFactorSection(other).textContent()) ?? '', /\bdisabled\b/);
    await other.getByText('Two-factor authentication is off.').waitFor();
    await screenshotBothSchemes(other, SHOTS, '15-settings-disabled-again');

    // Set up again, with a new secret.
    const again = await setUpTwoFactor(other, base, address, '16-setup-again');
    assert.notEqual(again.app.secret, secret);

    // Disabling ended every other session: the first browser is signed out. Once trusted, it is
    // asked for a code again; trust it, then revoke it.
    await page.goto(`${base}/settings`);
    await page.waitForURL(`${base}/login?next=%2Fsettings`);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    await page.getByLabel('Verification code', { exact: true }).fill(await again.app.next());
    await page.getByLabel('Trust this device for 30 days', { exact: true }).check();
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(`${base}/settings`);
    const trusted = page.getByRole('region', { name: 'Trusted devices', exact: true }).getByRole('listitem');
    assert.equal(await trusted.count(), 1);
    await trusted.getByRole('button', { name: 'Revoke', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=device_revoked#trusted-devices`);
    assert.equal(await page.getByRole('region', { name: 'Trusted devices', exact: true }).getByRole('listitem').count(), 0);
    await page.getByText('No trusted devices.').waitFor();
    await screenshotBothSchemes(page, SHOTS, '17-device-revoked');

    // The security log tells the story in words.
    await assertSecurityLogHas(page, [
      'Trusted device revoked',
      'Two-factor authentication turned on',
      'Two-factor authentication turned off',
      'Recovery code used',
      'Logged in with a recovery code',
      'Logged in on a trusted device',
      'New recovery codes created',
    ]);
    assertNoConsoleErrors(page);
    assertNoConsoleErrors(other);
    await first.close();
    await second.close();
  });

  test('the second-factor login, setup and recovery codes work with JavaScript turned off', async (t) => {
    const s = await open(t, { javaScriptEnabled: false });
    if (!s) return;
    const { base, context, page } = s;
    const address = email('nojs');
    await signUp(page, base, address, PASSWORD);
    await page.goto(`${base}/settings`);
    await openTwoFactorSetup(page, base);
    const app = new Authenticator(await secretFromQrCode(page, 'nojs-setup', address));
    await confirmTwoFactorSetup(page, await app.next());
    const codes = await shownCodes(page);
    assert.equal(await page.getByRole('button', { name: 'Copy' }).count(), 0, 'no Copy button without JavaScript');
    const file = await download(page);
    assert.deepEqual(codesInFile(file.text), codes);
    await screenshotBothSchemes(page, SHOTS, 'nojs-recovery-codes');
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=two_factor_on`);
    await logOut(page, base);

    // A wrong code, then the right one, all without JavaScript.
    await page.goto(`${base}/login?next=${encodeURIComponent('/settings?before=99999999999999')}`);
    await submitLogin(page, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor?next=${encodeURIComponent('/settings?before=99999999999999')}`);
    const code = page.getByLabel('Verification code', { exact: true });
    await code.fill(app.wrongCode());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('#field-code-error').waitFor();
    assert.match(await describedByText(page, code), /That code is not right/);
    assert.match(await page.title(), /^Error: /);
    await screenshotBothSchemes(page, SHOTS, 'nojs-login-wrong-code');
    // The recovery-code mode and back, keeping next.
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
    await page.waitForURL(`${base}/login/two-factor?method=recovery_code&next=${encodeURIComponent('/settings?before=99999999999999')}`);
    await page.getByRole('link', { name: 'Use a code from your authenticator app' }).click();
    await page.getByLabel('Verification code', { exact: true }).fill(await app.next());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(`${base}/settings?before=99999999999999`);
    await page.getByRole('heading', { name: 'Account settings', level: 1 }).waitFor();

    // A recovery code with few left: the warning suggests regenerating.
    const id = await userIdOf(s.server, address);
    const now = Date.now();
    const rows = await s.server.ctx.db.selectFrom('recovery_codes').select(['id', 'position']).where('user_id', '=', id).orderBy('position').execute();
    // Stand-in for six earlier recovery-code logins: mark codes 1–6 used.
    await s.server.ctx.db.updateTable('recovery_codes').set({ used_at: now }).where('id', 'in', rows.slice(1, 7).map((r) => r.id)).execute();
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[0]!);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(`${base}/settings?codes_left=3`);
    await page.getByText('You have 3 recovery codes left.').waitFor();
    const section = twoFactorSection(page);
    assert.match((await section.textContent()) ?? '', /Only 3 recovery codes left\..*Regenerate recovery codes/);
    await screenshotBothSchemes(page, SHOTS, 'nojs-few-codes-left');
    await context.close();
  });

  test('five wrong codes lock the second factor, with the time left in words', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const address = email('lock');
    await signUp(page, base, address, PASSWORD);
    const { app } = await setUpTwoFactor(page, base, address, 'lock-setup');
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    const code = page.getByLabel('Verification code', { exact: true });
    for (let i = 1; i <= 4; i++) {
      await code.fill(app.wrongCode());
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await page.locator('#field-code-error').waitFor();
      assert.match(await describedByText(page, code), /That code is not right/, `wrong code ${i}`);
    }
    await assertAccessible(page, 'the second-factor page with an error');
    await screenshotBothSchemes(page, SHOTS, 'lock-wrong-code');
    // The fifth wrong code starts the lock, and the page says so at once.
    await code.fill(app.wrongCode());
    const [fifth] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(`${base}/login/two-factor`)),
      page.getByRole('button', { name: 'Verify', exact: true }).click(),
    ]);
    assert.equal(fifth.status(), 429);
    assert.equal(fifth.headers()['retry-after'], '60');
    await page.locator('#field-code-error').waitFor();
    assert.equal(await describedByText(page, code), 'Error: Too many wrong codes. Try again in 1 minute.');
    // Even the right code is refused during the lock.
    await code.fill(await app.next());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('#field-code-error').waitFor();
    assert.match(await describedByText(page, code), /Too many wrong codes\. Try again in \d+ minutes?\./);
    assert.equal(page.url(), `${base}/login/two-factor`);
    await assertAccessible(page, 'the second-factor page, locked');
    await screenshotBothSchemes(page, SHOTS, 'lock-locked');

    // The login expired: back to the login with a notice.
    const id = await userIdOf(s.server, address);
    await s.server.ctx.db.deleteFrom('sessions').where('user_id', '=', id).execute();
    await code.fill('123456');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(`${base}/login?expired=1`);
    await page.getByText('Your login expired').waitFor();
    assertNoConsoleErrors(page);
    await context.close();
  });

  test('the two-factor pages fit a 375-pixel screen', async (t) => {
    const s = await open(t, PHONE);
    if (!s) return;
    const { base, context, page } = s;
    const address = email('a-rather-long-address-that-must-wrap.phone');
    const check = phoneCheck(page, SHOTS);
    await signUp(page, base, address, PASSWORD);
    await openTwoFactorSetup(page, base);
    await check('setup');
    const app = new Authenticator(await secretFromQrCode(page, 'phone-setup', address));
    await confirmTwoFactorSetup(page, await app.next());
    await check('recovery-codes');
    const codes = await shownCodes(page);
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=two_factor_on`);
    await check('settings-enabled');
    await page.goto(`${base}/settings/two-factor/recovery-codes`);
    await check('view-recovery-codes');
    await page.goto(`${base}/settings/two-factor/disable`);
    await assertAccessible(page, 'the disable page');
    await check('disable');
    await page.goto(`${base}/reauthenticate?next=%2Fsettings`);
    await check('reauthenticate');
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
    await assertAccessible(page, 'the reauthenticate page, recovery code');
    await check('reauthenticate-recovery-code');
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    await check('login-code');
    await page.getByLabel('Verification code', { exact: true }).fill(app.wrongCode());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('#field-code-error').waitFor();
    await check('login-code-error');
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
    await check('login-recovery-code');
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[3]!);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(`${base}/settings?codes_left=9`);
    await check('settings-codes-left');
    assertNoConsoleErrors(page);
    await context.close();
  });

  test('hashed recovery codes: shown once at setup, never again, and regenerated on request', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const hashed = await startTestServer('sqlite', { publicHost: true, env: { TWOFOLD_RECOVERY_CODES: 'hashed' } });
    t.after(() => hashed.close());
    const base = hashed.publicUrl;
    const address = email('hashed');
    const context = await newContext(s.browser);
    const page = await newPage(context);
    await signUp(page, base, address, PASSWORD);
    await page.goto(`${base}/settings`);
    await openTwoFactorSetup(page, base);
    const app = new Authenticator(await secretFromQrCode(page, 'hashed-setup', address));
    await confirmTwoFactorSetup(page, await app.next());
    const codes = await shownCodes(page);
    await page.getByText('They are shown only this once.').waitFor();
    // The download is built into the page, so it works although the server keeps no codes.
    const file = await download(page);
    assert.deepEqual(codesInFile(file.text), codes);
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=two_factor_on`);
    await twoFactorSection(page).getByRole('link', { name: 'View recovery codes', exact: true }).click();
    await page.waitForURL(`${base}/settings/two-factor/recovery-codes`);
    await page.getByText('cannot be shown again').waitFor();
    assert.equal(((await page.locator('main').textContent()) ?? '').includes(codes[0]!), false);
    await assertAccessible(page, 'the recovery codes page in hashed mode');
    await screenshotBothSchemes(page, SHOTS, 'hashed-view');
    await page.getByRole('button', { name: 'Regenerate recovery codes', exact: true }).click();
    await page.getByRole('heading', { name: 'Your new recovery codes', level: 1 }).waitFor();
    const renewed = await shownCodes(page);
    assert.equal(renewed.filter((c) => codes.includes(c)).length, 0);
    await context.close();
  });
});
