import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import type { TestServer } from '../helpers/server.js';
import { requireCommand } from '../helpers/tools.js';
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
  screenshotBothSchemes,
  sharedBrowserAndServer,
  shownCodes,
  signUp,
  twoFactorSection,
} from './harness.js';

/**
 * Security keys end to end in Chromium, with a virtual authenticator (ctap2 over usb) driven through
 * the DevTools protocol: the browser runs the real WebAuthn ceremony against the server, and the
 * authenticator can be told to answer with a bad signature, without user presence, or not at all.
 */

const SHOTS = 'security-keys';
const PASSWORD = 'amber kettle meadow 9';
// WebAuthn binds keys to PUBLIC_URL's host: the pages are opened at http://localhost:<port>.
const { email, setup, open } = sharedBrowserAndServer('key');

// ---- the virtual authenticator ----

interface VirtualKey {
  cdp: CDPSession;
  authenticatorId: string;
}

const AUTHENTICATOR = {
  protocol: 'ctap2',
  transport: 'usb',
  hasResidentKey: false,
  hasUserVerification: false,
  automaticPresenceSimulation: true,
} as const;

/** A security key plugged into this page's browser tab. */
async function plugInKey(context: BrowserContext, page: Page, options: Partial<typeof AUTHENTICATOR> = {}): Promise<VirtualKey> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { ...AUTHENTICATOR, ...options } });
  return { cdp, authenticatorId };
}

/** The next answers of the key: a forged signature, no user presence, or normal again. */
async function overrideKey(key: VirtualKey, bits: { isBogusSignature?: boolean; isBadUV?: boolean; isBadUP?: boolean }): Promise<void> {
  await key.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: key.authenticatorId, ...bits });
}

async function credentials(key: VirtualKey) {
  return (await key.cdp.send('WebAuthn.getCredentials', { authenticatorId: key.authenticatorId })).credentials;
}

/**
 * Takes the credentials off the key, so that the next prompt finds none of the account's keys and
 * ends the way a closed prompt does (NotAllowedError). Returns a function that puts them back.
 */
async function unplugCredentials(key: VirtualKey): Promise<() => Promise<void>> {
  const saved = await credentials(key);
  await key.cdp.send('WebAuthn.clearCredentials', { authenticatorId: key.authenticatorId });
  return async () => {
    for (const credential of saved) await key.cdp.send('WebAuthn.addCredential', { authenticatorId: key.authenticatorId, credential });
  };
}

// ---- page steps ----

const keysSection = (page: Page) => page.getByRole('region', { name: 'Passkeys and security keys', exact: true });
const keyItems = (page: Page) => keysSection(page).getByRole('list', { name: 'Your passkeys and security keys' }).getByRole('listitem');
const keyStatus = (page: Page, form: string) => page.locator(`#${form} [data-key-status]`);

/** Account settings → Key name → Add security key; the key answers on its own. */
async function addKey(page: Page, name: string): Promise<void> {
  await keysSection(page).getByLabel('Key name', { exact: true }).fill(name);
  await keysSection(page).getByRole('button', { name: 'Add security key', exact: true }).click();
}

/** Signs up and adds a first key: the recovery codes page, then Done. */
async function signUpWithKey(context: BrowserContext, page: Page, base: string, address: string, name = 'Blue YubiKey'): Promise<{ key: VirtualKey; codes: string[] }> {
  const key = await plugInKey(context, page);
  await signUp(page, base, address, PASSWORD);
  await addKey(page, name);
  await page.getByRole('heading', { name: 'Save your recovery codes', level: 1 }).waitFor();
  const codes = await shownCodes(page);
  await page.getByRole('button', { name: 'Done', exact: true }).click();
  await page.waitForURL(`${base}/settings?notice=key_added_two_factor_on#security-keys`);
  return { key, codes };
}

/** The account's security log as {type, detail} rows, newest first. */
async function events(s: TestServer, address: string): Promise<{ type: string; detail: Record<string, unknown> }[]> {
  const rows = await s.ctx.db
    .selectFrom('security_events')
    .select(['type', 'detail', 'at'])
    .where('user_id', '=', await userIdOf(s, address))
    .orderBy('at', 'desc')
    .execute();
  return rows.map((r) => ({ type: r.type, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {} }));
}

/** Clicks, and waits for the page's form POST to `path` to be answered (the new page loaded). */
async function clickAndAwaitPost(page: Page, button: ReturnType<Page['getByRole']>, path: string): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === path),
    button.click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return response.status();
}

async function focusedId(page: Page): Promise<string> {
  return page.evaluate(() => document.activeElement?.id ?? '');
}

describe('security keys in the browser', () => {
  test('a refused key says why and is logged, a closed prompt falls back to the codes, and the key works while codes are locked', async (t) => {
    const s = await setup(t);
    if (!s) return;
    if (!requireCommand(t, 'oathtool')) return;
    const base = s.server.publicUrl;
    const address = email('refused');
    const context = await newContext(s.browser);
    const page = await newPage(context);
    const { key } = await signUpWithKey(context, page, base, address);
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    const useKey = page.getByRole('button', { name: 'Use security key', exact: true });

    // A forged signature: refused, said above the button, and written to the security log.
    await overrideKey(key, { isBogusSignature: true });
    assert.equal(await clickAndAwaitPost(page, useKey, '/login/two-factor'), 401);
    await page.getByRole('alert').filter({ hasText: 'The security key could not be verified.' }).waitFor();
    assert.equal(page.url(), `${base}/login/two-factor`);
    assert.match(await page.title(), /^Error: /);
    let failed = (await events(s.server, address)).filter((e) => e.type === 'security_key_failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.detail.during, 'login');
    assert.equal(failed[0]!.detail.key, 'Blue YubiKey');
    await assertAccessible(page, 'the second-factor page with a refused key');
    await screenshotBothSchemes(page, SHOTS, '10-login-bogus-signature');

    // No user presence (nobody touched the key): refused too.
    await overrideKey(key, { isBadUP: true });
    assert.equal(await clickAndAwaitPost(page, useKey, '/login/two-factor'), 401);
    await page.getByRole('alert').filter({ hasText: 'The security key could not be verified.' }).waitFor();
    failed = (await events(s.server, address)).filter((e) => e.type === 'security_key_failed');
    assert.equal(failed.length, 2);
    assert.equal(failed[0]!.detail.reason, 'no_user_presence');
    await overrideKey(key, {});

    // The prompt ends without an answer: a message, and the focus on the way left (no app: a recovery code).
    const putBack = await unplugCredentials(key);
    await useKey.click();
    await keyStatus(page, 'security-key-login').filter({ hasText: 'The security key was not used' }).waitFor();
    assert.match((await keyStatus(page, 'security-key-login').textContent()) ?? '', /use a recovery code/);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Use a recovery code');
    assert.equal(page.url(), `${base}/login/two-factor`);
    await assertAccessible(page, 'the second-factor page after a closed prompt');
    await screenshotBothSchemes(page, SHOTS, '11-login-key-cancelled');
    await putBack();

    // The key, as it should be: in.
    await useKey.click();
    await page.waitForURL(`${base}/settings`);

    // An authenticator app besides the key: its setup is still offered, and its codes replace the old.
    await openTwoFactorSetup(page, base);
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const app = new Authenticator(secret);
    await confirmTwoFactorSetup(page, await app.next());
    assert.match((await page.locator('main').textContent()) ?? '', /replace your earlier ones/);
    await screenshotBothSchemes(page, SHOTS, '12-app-added-recovery-codes');
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=app_added`);
    const tf = (await twoFactorSection(page).textContent()) ?? '';
    assert.match(tf, /Authenticator app, Security key \(1\), Recovery codes/);
    assert.match(tf, /a code from your authenticator app or your security key/);
    assert.equal(await twoFactorSection(page).getByRole('button', { name: 'Setup two-factor authentication' }).count(), 0);

    // App and key: the code field first, the key beside it; a closed prompt goes back to the code field.
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    const code = page.getByLabel('Verification code', { exact: true });
    await code.waitFor();
    await useKey.waitFor();
    await assertAccessible(page, 'the second-factor page with app and key');
    await screenshotBothSchemes(page, SHOTS, '13-login-app-and-key');
    const putBackAgain = await unplugCredentials(key);
    await useKey.click();
    await keyStatus(page, 'security-key-login').filter({ hasText: 'Enter a code instead' }).waitFor();
    assert.equal(await focusedId(page), 'field-code', 'the code field has the focus');
    await screenshotBothSchemes(page, SHOTS, '14-login-app-and-key-cancelled');
    await putBackAgain();

    // Five wrong codes lock the guessable factors; even the right code is refused …
    const wrong = app.wrongCode();
    for (let i = 1; i <= 5; i++) {
      await code.fill(wrong);
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await page.locator('#field-code-error').waitFor();
    }
    assert.match(await describedByText(page, code), /Too many wrong codes/);
    // … but a key cannot be guessed: it still gets in, with "Trust this device" honoured.
    await page.getByLabel('Trust this device for 30 days', { exact: true }).check();
    await useKey.click();
    await page.waitForURL(`${base}/settings`);
    assert.equal(await page.getByRole('region', { name: 'Trusted devices' }).getByRole('listitem').count(), 1);
    await assertSecurityLogHas(page, ['Logged in with security key', 'Login locked after too many wrong codes', 'Security key not accepted: “Blue YubiKey”']);

    // "Confirm it's you" with app and key: the app code first, the key one link away.
    await page.goto(`${base}/reauthenticate?next=%2Fsettings`);
    await page.getByLabel('Verification code', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Use your security key', exact: true }).click();
    await page.waitForURL(`${base}/reauthenticate?method=webauthn&next=%2Fsettings`);
    assert.equal(await page.getByLabel('Verification code').count(), 0);
    await page.getByRole('link', { name: 'Use a code from your authenticator app', exact: true }).waitFor();
    await assertAccessible(page, 'the reauthenticate page with app and key, key chosen');
    await screenshotBothSchemes(page, SHOTS, '15-reauthenticate-app-and-key');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Use security key', exact: true }).click();
    await page.waitForURL(`${base}/settings`);
    const confirmed = (await events(s.server, address)).find((e) => e.type === 'reauthenticated');
    assert.equal(confirmed?.detail.method, 'webauthn');
    assertNoConsoleErrors(page);
    await context.close();
  });

  test('add a key in settings, log in with it and trust the device, then remove it with a fresh login', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const address = email('journey');
    const key = await plugInKey(context, page);

    await signUp(page, base, address, PASSWORD);
    const section = keysSection(page);
    await section.getByRole('heading', { name: 'Passkeys and security keys', level: 2 }).waitFor();
    await section.getByText('No passkeys or security keys yet.').waitFor();
    assert.match((await twoFactorSection(page).textContent()) ?? '', /\bdisabled\b/);
    await assertAccessible(page, 'the settings page with no keys');
    await screenshotBothSchemes(page, SHOTS, '01-settings-no-keys');

    // No name: said next to the field, and no prompt is opened.
    await section.getByRole('button', { name: 'Add security key', exact: true }).click();
    await page.locator('#field-name-error').waitFor();
    const nameField = section.getByLabel('Key name', { exact: true });
    assert.equal(await nameField.getAttribute('aria-invalid'), 'true');
    assert.match(await describedByText(page, nameField), /Give the key a name/);
    assert.equal((await credentials(key)).length, 0, 'no prompt without a name');

    // The first key: two-factor authentication turns on, and the 10 recovery codes are shown once.
    await addKey(page, 'Blue YubiKey');
    await page.getByRole('heading', { name: 'Save your recovery codes', level: 1 }).waitFor();
    await shownCodes(page);
    assert.match((await page.locator('main').textContent()) ?? '', /If you lose your security key/);
    await page.getByRole('link', { name: 'Download', exact: true }).waitFor();
    assert.equal((await credentials(key)).length, 1, 'the key holds one credential');
    await assertAccessible(page, 'the recovery codes page after the first key');
    await screenshotBothSchemes(page, SHOTS, '02-first-key-recovery-codes');
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=key_added_two_factor_on#security-keys`);
    await section.getByText('Two-factor authentication is on. From now on a login asks for your security key.').waitFor();
    const tf = (await twoFactorSection(page).textContent()) ?? '';
    assert.match(tf, /\benabled\b/);
    assert.match(tf, /asks for your security key/);
    assert.match(tf, /Security key \(1\), Recovery codes/);
    assert.doesNotMatch(tf, /Authenticator app,/);
    // Keys but no app: setting up the app is still offered.
    await twoFactorSection(page).getByRole('button', { name: 'Setup two-factor authentication', exact: true }).waitFor();
    assert.equal(await keyItems(page).count(), 1);
    const item = keyItems(page).first();
    assert.match((await item.textContent()) ?? '', /Blue YubiKey.*Added .*UTC.*Last used never/);
    await item.getByRole('button', { name: 'Remove', exact: true }).waitFor();
    await assertAccessible(page, 'the settings page with a key');
    await screenshotBothSchemes(page, SHOTS, '03-settings-one-key');

    // The same key again: the browser refuses (it is in the excluded list), and says so.
    await addKey(page, 'Same key');
    await keyStatus(page, 'add-security-key').filter({ hasText: 'This security key is already added to your account.' }).waitFor();
    assert.equal(page.url(), `${base}/settings?notice=key_added_two_factor_on#security-keys`);

    // A second key (the authenticator's old credential put aside) under a taken name: the error is
    // next to "Key name", and the same answer goes again with another name, without a new touch.
    const first = await credentials(key);
    await key.cdp.send('WebAuthn.clearCredentials', { authenticatorId: key.authenticatorId });
    await addKey(page, 'Blue YubiKey');
    await page.locator('#field-name-error').waitFor();
    assert.match(await describedByText(page, section.getByLabel('Key name', { exact: true })), /already have a passkey or security key with that name/);
    assert.match(await page.title(), /^Error: /);
    assert.equal(await focusedId(page), 'field-name', 'the refused field has the focus');
    const answered = (await credentials(key)).length;
    assert.equal(answered, 1);
    await assertAccessible(page, 'the settings page with a taken key name');
    await screenshotBothSchemes(page, SHOTS, '04-name-taken');
    await overrideKey(key, { isBogusSignature: true }); // a new prompt would now fail: proves none is made
    await addKey(page, 'Backup key');
    await page.waitForURL(`${base}/settings?notice=key_added#security-keys`);
    await overrideKey(key, {});
    assert.equal((await credentials(key)).length, answered, 'no second touch');
    await section.getByText('The security key was added.').waitFor();
    assert.deepEqual((await keyItems(page).locator('.item-title').allTextContents()).map((x) => x.trim()).sort(), ['Backup key', 'Blue YubiKey']);
    // Put the first credential back beside the second: the key now holds both.
    for (const c of first) await key.cdp.send('WebAuthn.addCredential', { authenticatorId: key.authenticatorId, credential: c });

    // Log out; log in with the key and trust this device.
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    const useKey = page.getByRole('button', { name: 'Use security key', exact: true });
    await useKey.waitFor();
    assert.equal(await page.getByLabel('Verification code').count(), 0, 'no app code field without an app');
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).waitFor();
    await page.getByLabel('Trust this device for 30 days', { exact: true }).check();
    await assertAccessible(page, 'the second-factor page with a key');
    await screenshotBothSchemes(page, SHOTS, '05-login-key');
    await useKey.click();
    await page.waitForURL(`${base}/settings`);
    assert.equal(await page.getByRole('region', { name: 'Trusted devices' }).getByRole('listitem').count(), 1);
    const used = (await keyItems(page).allTextContents()).join('\n');
    assert.match(used, /Last used \d/, 'the key used shows when');
    await assertSecurityLogHas(page, ['Logged in with security key', 'Device trusted for 30 days', 'Security key added', 'Two-factor authentication turned on']);
    assert.equal((await events(s.server, address)).find((e) => e.type === 'login')?.detail.method, 'webauthn');

    // A trusted device skips the key; such a login is not fresh, so changes ask to confirm first.
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/settings`);
    await addKey(page, 'Spare key');
    await page.waitForURL(`${base}/reauthenticate?next=%2Fsettings`);
    await page.goto(`${base}/settings`);
    await keyItems(page).filter({ hasText: 'Backup key' }).getByRole('button', { name: 'Remove', exact: true }).click();
    await page.waitForURL(`${base}/reauthenticate?next=%2Fsettings`);
    await page.getByRole('heading', { name: 'Confirm it’s you', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).waitFor();
    assert.equal(await page.getByLabel('Verification code').count(), 0);
    await assertAccessible(page, 'the reauthenticate page with a key');
    await screenshotBothSchemes(page, SHOTS, '06-reauthenticate-key');
    // A wrong password: said next to the field.
    await page.getByLabel('Password', { exact: true }).fill('not my password');
    await page.getByRole('button', { name: 'Use security key', exact: true }).click();
    await page.locator('#field-password-error').waitFor();
    assert.match(await describedByText(page, page.getByLabel('Password', { exact: true })), /password is not right/);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Use security key', exact: true }).click();
    await page.waitForURL(`${base}/settings`);

    // Remove one key: two-factor authentication stays on.
    await keyItems(page).filter({ hasText: 'Backup key' }).getByRole('button', { name: 'Remove', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=key_removed#security-keys`);
    await keysSection(page).getByText('The security key was removed.').waitFor();
    assert.equal(await keyItems(page).count(), 1);
    assert.match((await twoFactorSection(page).textContent()) ?? '', /\benabled\b/);
    assert.match((await keyItems(page).first().textContent()) ?? '', /only second factor/);
    await screenshotBothSchemes(page, SHOTS, '07-key-removed');
    // Remove the last: two-factor authentication is off, and the page says so.
    await keyItems(page).first().getByRole('button', { name: 'Remove', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=key_removed_two_factor_off#security-keys`);
    await keysSection(page).getByText(/two-factor authentication is now off/).waitFor();
    assert.match((await twoFactorSection(page).textContent()) ?? '', /\bdisabled\b/);
    await keysSection(page).getByText('No passkeys or security keys yet.').waitFor();
    assert.equal(await page.getByRole('region', { name: 'Trusted devices' }).count(), 0, 'the trusted device went with it');
    await assertAccessible(page, 'the settings page after removing the last key');
    await screenshotBothSchemes(page, SHOTS, '08-last-key-removed');
    const types = (await events(s.server, address)).map((e) => e.type);
    assert.ok(types.includes('security_key_removed') && types.includes('two_factor_disabled'));
    assertNoConsoleErrors(page);
    await context.close();
  });
  test('without JavaScript the pages explain that security keys need it, and a recovery code still gets in', async (t) => {
    const s = await open(t, { javaScriptEnabled: false });
    if (!s) return;
    const { base, context: noJs, page: plain } = s;

    // Adding: the form says so, and a submit is answered with the same words.
    await signUp(plain, base, email('nojs-add'), PASSWORD);
    const section = keysSection(plain);
    await section.getByText('Adding a security key needs JavaScript').waitFor();
    await section.getByLabel('Key name', { exact: true }).fill('Blue YubiKey');
    assert.ok(await section.getByRole('button', { name: 'Add security key', exact: true }).isDisabled(), 'nothing to post without a key’s answer');
    // Posted anyway (by hand): the same words come back, and nothing changes.
    const posted = await plain.request.post(`${base}/settings/security-keys`, {
      form: { _csrf: (await plain.locator('#add-security-key input[name="_csrf"]').getAttribute('value')) ?? '', name: 'Blue YubiKey', response: '' },
      headers: { origin: base },
    });
    assert.equal(posted.status(), 400);
    assert.match(await posted.text(), /Security keys need JavaScript/);
    await plain.reload();
    assert.equal(await keyItems(plain).count(), 0);
    assert.match((await twoFactorSection(plain).textContent()) ?? '', /\bdisabled\b/);
    await screenshotBothSchemes(plain, SHOTS, '20-nojs-add');

    // Logging in to an account that has only a key: no dead button, the way out is a recovery code.
    const address = email('nojs-login');
    const withJs = await newContext(s.browser);
    const page = await newPage(withJs);
    const { codes } = await signUpWithKey(withJs, page, base, address);
    await withJs.close();
    await logOut(plain, base);
    await logIn(plain, base, address, PASSWORD);
    await plain.waitForURL(`${base}/login/two-factor`);
    assert.equal(await plain.getByRole('button', { name: 'Use security key' }).count(), 0, 'the key button stays hidden');
    await plain.getByText('Security keys need JavaScript, which is turned off in this browser.').waitFor();
    await screenshotBothSchemes(plain, SHOTS, '21-nojs-login');
    await plain.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
    await plain.getByRole('link', { name: 'Use your security key', exact: true }).waitFor();
    await plain.getByLabel('Recovery code', { exact: true }).fill(codes[0]!);
    await plain.getByRole('button', { name: 'Verify', exact: true }).click();
    await plain.waitForURL(`${base}/settings?codes_left=9`);
    await noJs.close();
  });

  test('the security-key pages fit a 375-pixel screen and load the WebAuthn library from node_modules', async (t) => {
    const s = await open(t, PHONE);
    if (!s) return;
    const { base, context, page } = s;
    const address = email('a-rather-long-address-that-must-wrap.phone');
    const check = phoneCheck(page, SHOTS);
    const key = await plugInKey(context, page);
    await signUp(page, base, address, PASSWORD);

    // The library comes from node_modules under a content-hash URL, cached; our script after it.
    const sources = await page.locator('script[src]').evaluateAll((els) => els.map((e) => e.getAttribute('src') ?? ''));
    assert.equal(sources.length, 2);
    assert.match(sources[0]!, /^\/assets\/vendor\/simplewebauthn-browser\.js\?v=[\w-]{10}$/);
    assert.match(sources[1]!, /^\/assets\/security-keys\.js\?v=[\w-]{10}$/);
    const lib = await page.request.get(`${base}${sources[0]}`);
    assert.equal(lib.status(), 200);
    assert.match(lib.headers()['content-type'] ?? '', /^text\/javascript/);
    assert.match(lib.headers()['cache-control'] ?? '', /max-age=86400/);
    assert.equal(await lib.text(), readFileSync(join(dirname(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser'))), 'dist/bundle/index.umd.min.js'), 'utf8'));
    assert.equal((await page.request.get(`${base}/assets/vendor/other.js`)).status(), 404);

    await check('settings-no-keys');
    await addKey(page, 'Blue YubiKey');
    await page.getByRole('heading', { name: 'Save your recovery codes', level: 1 }).waitFor();
    await check('first-key-recovery-codes');
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.waitForURL(`${base}/settings?notice=key_added_two_factor_on#security-keys`);
    await check('settings-one-key');
    await key.cdp.send('WebAuthn.clearCredentials', { authenticatorId: key.authenticatorId });
    await addKey(page, 'Blue YubiKey');
    await page.locator('#field-name-error').waitFor();
    await assertAccessible(page, 'the settings page with a taken key name (phone)');
    await check('settings-name-taken');
    await addKey(page, 'A second key with a name long enough to need wrapping somewhere');
    await page.waitForURL(`${base}/settings?notice=key_added#security-keys`);
    await check('settings-two-keys');
    await page.goto(`${base}/reauthenticate?next=%2Fsettings`);
    await assertAccessible(page, 'the reauthenticate page with a key (phone)');
    await check('reauthenticate-key');
    await logOut(page, base);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor`);
    await assertAccessible(page, 'the second-factor page with a key (phone)');
    await check('login-key');
    await page.getByRole('button', { name: 'Use security key', exact: true }).click();
    await page.waitForURL(`${base}/settings`);
    assertNoConsoleErrors(page);
    await context.close();
  });
});
