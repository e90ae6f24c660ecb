import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { userIdOf } from '../helpers/totp.js';
import {
  assertAccessible,
  assertNoConsoleErrors,
  describedByText,
  logIn,
  logOut,
  newContext,
  newPage,
  PHONE,
  phoneCheck,
  screenshot,
  screenshotBothSchemes,
  sharedBrowserAndServer,
  signUp,
  submitLogin,
  twoFactorSection,
} from './harness.js';

const SHOTS = 'pages';
const PASSWORD = 'calm river lantern 42';

const { email, setup, open } = sharedBrowserAndServer('person');

/** The CSRF token of the first form on the page. */
async function formToken(page: Page): Promise<string> {
  const v = await page.locator('input[name="_csrf"]').first().getAttribute('value');
  assert.ok(v, 'the form carries a _csrf token');
  return v;
}

describe('web pages', () => {
  test('sign up, see settings, log out, log in again and return to the page asked for', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const address = email();

    await page.goto(`${base}/signup`);
    await assertAccessible(page, 'the signup page');
    await screenshotBothSchemes(page, SHOTS, 'signup');
    await signUp(page, base, address, PASSWORD);

    await page.getByRole('heading', { name: 'Account settings', exact: true, level: 1 }).waitFor();
    const header = page.getByRole('banner');
    assert.equal(await header.getByText(address, { exact: true }).count(), 1, 'the header shows the email');
    await header.getByRole('link', { name: 'Account settings', exact: true }).waitFor();
    await header.getByRole('button', { name: 'Log out', exact: true }).waitFor();

    const section = twoFactorSection(page);
    await section.getByRole('heading', { name: 'Two-factor authentication', exact: true }).waitFor();
    assert.match((await section.textContent()) ?? '', /\bdisabled\b/);
    assert.doesNotMatch((await section.textContent()) ?? '', /\benabled\b/);
    await section.getByRole('button', { name: 'Setup two-factor authentication', exact: true }).waitFor();

    const log = page.getByRole('region', { name: 'Security log', exact: true });
    await log.getByRole('heading', { name: 'Security log', exact: true }).waitFor();
    const first = log.getByRole('listitem').first();
    const firstText = (await first.textContent()) ?? '';
    assert.match(firstText, /Account created/);
    assert.match(firstText, /127\.0\.0\.1/);
    assert.match(firstText, /Chrome on Linux/);
    assert.match(firstText, /UTC/);
    await assertAccessible(page, 'the settings page');
    await screenshotBothSchemes(page, SHOTS, 'settings');

    await logOut(page, base);
    await page.getByText('You have logged out.').waitFor();

    // A signed-in page while signed out: to the login, and back after it.
    await page.goto(`${base}/settings?before=99999999999999`);
    await page.waitForURL(`${base}/login?next=${encodeURIComponent('/settings?before=99999999999999')}`);
    await submitLogin(page, address, PASSWORD);
    await page.waitForURL(`${base}/settings?before=99999999999999`);
    await page.goto(`${base}/settings`);
    const events = await page.getByRole('region', { name: 'Security log' }).getByRole('listitem').allTextContents();
    assert.match(events[0]!, /Logged in with password/);
    assert.match(events[1]!, /Logged out/);
    assert.match(events[2]!, /Account created/);

    // Signed in, / and /login go to the settings.
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/settings`);
    await page.goto(`${base}/login`);
    await page.waitForURL(`${base}/settings`);
    assertNoConsoleErrors(page);
    await context.close();
  });

  test('login errors appear next to the field in plain words and keep the email', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const address = email();
    await signUp(page, base, address, PASSWORD);
    await logOut(page, base);

    await page.goto(`${base}/login`);
    await assertAccessible(page, 'the login page');
    await screenshotBothSchemes(page, SHOTS, 'login');

    await submitLogin(page, address, 'not the password');
    const password = page.getByLabel('Password', { exact: true });
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.match(await describedByText(page, password), /email or password is not right/);
    assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), address, 'the email is kept');
    assert.equal(await password.inputValue(), '', 'the password is not sent back');
    assert.match(await page.title(), /^Error: Log in/);
    await assertAccessible(page, 'the login page with an error');
    await screenshotBothSchemes(page, SHOTS, 'login-wrong-password');

    // An unknown email gets the same answer.
    await submitLogin(page, email('nobody'), 'not the password');
    assert.match(await describedByText(page, page.getByLabel('Password', { exact: true })), /email or password is not right/);

    // An empty email is named on the email field.
    await page.getByLabel('Email', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    const emailField = page.getByLabel('Email', { exact: true });
    await page.locator('#field-email-error').waitFor();
    assert.equal(await emailField.getAttribute('aria-invalid'), 'true');
    assert.match(await describedByText(page, emailField), /Enter your email address/);

    // The right password after errors still works.
    await submitLogin(page, address, PASSWORD);
    await page.waitForURL(`${base}/settings`);
    assertNoConsoleErrors(page);
    await context.close();
  });

  test('signup errors: email taken, password too common, invalid email', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const address = email();
    await signUp(page, base, address, PASSWORD);
    await logOut(page, base);

    await page.goto(`${base}/signup`);
    await page.getByLabel('Email', { exact: true }).fill(address.toUpperCase());
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    const emailField = page.getByLabel('Email', { exact: true });
    await page.locator('#field-email-error').waitFor();
    assert.equal(await emailField.getAttribute('aria-invalid'), 'true');
    assert.match(await describedByText(page, emailField), /already exists/);
    assert.equal(await emailField.inputValue(), address.toUpperCase());
    await assertAccessible(page, 'the signup page with an error');
    await screenshotBothSchemes(page, SHOTS, 'signup-email-taken');

    const other = email();
    await emailField.fill(other);
    await page.getByLabel('Password', { exact: true }).fill('password123');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    const passwordField = page.getByLabel('Password', { exact: true });
    await page.locator('#field-password-error').waitFor();
    assert.equal(await passwordField.getAttribute('aria-invalid'), 'true');
    assert.match(await describedByText(page, passwordField), /most common/);
    assert.equal(await emailField.getAttribute('aria-invalid'), null);
    assert.equal(await emailField.inputValue(), other);

    await emailField.fill('not an email');
    await passwordField.fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await page.locator('#field-email-error').waitFor();
    assert.match(await describedByText(page, emailField), /valid email address/);
    assertNoConsoleErrors(page);
    await context.close();
  });

  test('next only returns to paths on this site', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const address = email();
    await signUp(page, base, address, PASSWORD);
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      await logOut(page, base);
      await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
      await submitLogin(page, address, PASSWORD);
      await page.waitForURL(`${base}/settings`);
    }
    await context.close();
  });

  test('with two-factor on, the password step leads to the second-factor page, which shows only the email', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const address = email();
    await signUp(page, base, address, PASSWORD);
    // Stand-in for a confirmed authenticator app (the setup flow is tested with the two-factor pages).
    const userId = await userIdOf(s.server, address);
    const now = Date.now();
    await s.server.ctx.db.insertInto('totp_credentials').values({ user_id: userId, secret_enc: 'unused', confirmed_at: now, last_used_step: null, created_at: now }).execute();
    await page.reload();
    const section = twoFactorSection(page);
    assert.match((await section.textContent()) ?? '', /\benabled\b/);
    assert.equal(await section.getByRole('button', { name: 'Setup two-factor authentication' }).count(), 0);
    await logOut(page, base);

    await page.goto(`${base}/login?next=${encodeURIComponent('/settings')}`);
    await submitLogin(page, address, PASSWORD);
    await page.waitForURL(`${base}/login/two-factor?next=${encodeURIComponent('/settings')}`);
    const code = page.getByLabel('Verification code', { exact: true });
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    await page.getByRole('button', { name: 'Verify', exact: true }).waitFor();
    const header = page.getByRole('banner');
    assert.equal(await header.getByText(address, { exact: true }).count(), 1);
    assert.equal(await header.getByRole('link', { name: 'Account settings' }).count(), 0, 'a pending login shows nothing but the email');
    assert.equal(await header.getByRole('button', { name: 'Log out' }).count(), 0);
    await assertAccessible(page, 'the second-factor page');
    await screenshotBothSchemes(page, SHOTS, 'login-two-factor');

    // A pending login is not signed in.
    await page.goto(`${base}/settings`);
    await page.waitForURL(`${base}/login?next=%2Fsettings`);
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/login/two-factor`);

    // Without a pending login, the second-factor page sends the person to the login.
    await context.clearCookies();
    await page.goto(`${base}/login/two-factor`);
    await page.waitForURL(`${base}/login?expired=1`);
    await page.getByText('Your login expired').waitFor();
    assertNoConsoleErrors(page);
    await context.close();
  });

  test('pages fit a 375-pixel screen without sideways scrolling', async (t) => {
    const s = await open(t, PHONE);
    if (!s) return;
    const { base, context, page } = s;
    const check = phoneCheck(page, SHOTS);
    await page.goto(`${base}/signup`);
    await check('signup');
    await logIn(page, base, email('nobody'), 'not the password');
    await page.locator('#field-password-error').waitFor();
    await check('login-error');
    await page.goto(`${base}/no-such-page`);
    await check('404');
    // A long address must wrap, not widen the page.
    await signUp(page, base, email('a-rather-long-address-that-must-wrap.somewhere-in-the-header'), PASSWORD);
    await check('settings');
    await context.close();
  });

  test('404 page is HTML for pages and JSON for the API', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const res = await page.goto(`${base}/no-such-page`);
    assert.equal(res?.status(), 404);
    assert.match(res?.headers()['content-type'] ?? '', /^text\/html/);
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    assert.equal(res?.headers()['referrer-policy'], 'same-origin', 'pages send their own Origin with their forms');
    assert.doesNotMatch(await res!.text(), /<script(?![^>]*\ssrc=)|\sstyle=/, 'no inline script or style');
    await page.getByRole('heading', { name: 'Page not found', exact: true, level: 1 }).waitFor();
    await assertAccessible(page, 'the 404 page');
    await screenshotBothSchemes(page, SHOTS, '404');

    const api = await context.request.get(`${base}/api/v1/no-such-thing`);
    assert.equal(api.status(), 404);
    assert.equal((await api.json()).error.code, 'not_found');
    assertNoConsoleErrors(page);
    await context.close();
  });

  test('login works with JavaScript turned off', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const base = s.server.publicUrl;
    const address = email();
    const setupContext = await newContext(s.browser);
    await signUp(await newPage(setupContext), base, address, PASSWORD);
    await setupContext.close();

    const context = await newContext(s.browser, { javaScriptEnabled: false });
    const page = await newPage(context);
    await logIn(page, base, address, PASSWORD);
    await page.waitForURL(`${base}/settings`);
    await page.getByRole('heading', { name: 'Account settings', exact: true }).waitFor();
    await logOut(page, base);
    await context.close();
  });

  test('forms need their CSRF token and a same-site origin', async (t) => {
    const s = await open(t);
    if (!s) return;
    const { base, context, page } = s;
    const address = email();
    await signUp(page, base, address, PASSWORD);
    const token = await formToken(page);

    // No token: refused, and the session lives on.
    const noToken = await context.request.post(`${base}/logout`, { form: {}, maxRedirects: 0 });
    assert.equal(noToken.status(), 403);
    assert.match(await noToken.text(), /This form has expired/);
    assert.doesNotMatch(await noToken.text(), /at .*\.ts:\d+/, 'no stack trace');
    const wrongToken = await context.request.post(`${base}/logout`, { form: { _csrf: token.slice(0, -2) + 'AA' }, maxRedirects: 0 });
    assert.equal(wrongToken.status(), 403);
    const noTokenLogin = await context.request.post(`${base}/login`, { form: { email: address, password: PASSWORD }, maxRedirects: 0 });
    assert.equal(noTokenLogin.status(), 403);

    // A token from another browser does not fit this browser's cookie.
    const stranger = await newContext(s.browser);
    const strangerPage = await newPage(stranger);
    await strangerPage.goto(`${base}/login`);
    const strangerToken = await formToken(strangerPage);
    assert.notEqual(strangerToken, token);
    const foreign = await context.request.post(`${base}/logout`, { form: { _csrf: strangerToken }, maxRedirects: 0 });
    assert.equal(foreign.status(), 403);
    await stranger.close();

    // The right token but another site's Origin: refused.
    const crossOrigin = await context.request.post(`${base}/logout`, { form: { _csrf: token }, headers: { origin: 'https://evil.example' }, maxRedirects: 0 });
    assert.equal(crossOrigin.status(), 403);
    assert.match(crossOrigin.headers()['content-type'] ?? '', /^text\/html/);

    // A real cross-site form in the browser, even one that knows the token.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<!doctype html><title>Prize</title><form method="post" action="${base}/logout"><input type="hidden" name="_csrf" value="${token}"><button>Claim your prize</button></form>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const evilPage = await newPage(context);
      await evilPage.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const [response] = await Promise.all([evilPage.waitForEvent('response', (r) => r.url() === `${base}/logout`), evilPage.getByRole('button', { name: 'Claim your prize' }).click()]);
      assert.equal(response.status(), 403);
      await evilPage.getByRole('heading', { level: 1 }).waitFor();
      await screenshot(evilPage, SHOTS, 'cross-site-post-refused');
      await evilPage.close();
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }

    // Still signed in after all that; the real form works.
    await page.goto(`${base}/settings`);
    await page.getByRole('heading', { name: 'Account settings', exact: true }).waitFor();
    await logOut(page, base);
    await context.close();
  });

  test('pages opened under another host name go to PUBLIC_URL; API and assets do not', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const other = s.server.url; // http://127.0.0.1:<port>
    assert.notEqual(new URL(other).host, new URL(s.server.publicUrl).host);
    const page = await fetch(`${other}/login?next=%2Fsettings`, { redirect: 'manual' });
    assert.equal(page.status, 308);
    assert.equal(page.headers.get('location'), `${s.server.publicUrl}/login?next=%2Fsettings`);
    assert.equal((await fetch(`${other}/healthz`, { redirect: 'manual' })).status, 200);
    assert.equal((await fetch(`${other}/api/v1/me`, { redirect: 'manual' })).status, 401);
    assert.equal((await fetch(`${other}/assets/styles.css`, { redirect: 'manual' })).status, 200);
  });
});
