import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { addClient } from '../../src/service/oidc/clients.js';
import { API, Authenticator } from '../helpers/totp.js';
import { assertAccessible, assertNoConsoleErrors, newContext, newPage, PHONE, phoneCheck, sharedBrowserAndServer, submitLogin } from './harness.js';

const SHOTS = 'oidc';
const PASSWORD = 'quiet harbour compass 7';
const { email, setup } = sharedBrowserAndServer('oidc', [['oathtool', 'oathtool']]);

/** A relying party's callback endpoint: a real listener that only records where the browser arrived. */
async function callbackServer(): Promise<{ server: Server; url: string; arrived: Promise<URL> }> {
  let resolve!: (u: URL) => void;
  const arrived = new Promise<URL>((r) => (resolve = r));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>App</title><h1>Back in the app</h1></html>');
    if (url.pathname === '/callback') resolve(url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/callback`, arrived };
}

describe('signing in to an application through Twofold (OpenID Connect) in Chromium', () => {
  test('authorization request → login → app code from oathtool → consent (Allow) → back at the app with a code that openid-client redeems', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { server, browser } = s;
    const base = server.publicUrl;

    // The person: an account with an authenticator app whose codes come from oathtool.
    const address = email();
    const api = server.client();
    assert.equal((await api.post(`${API}/signup`, { email: address, password: PASSWORD })).status, 201);
    const setupAnswer = await api.post(`${API}/me/two-factor/totp/setup`);
    const app = new Authenticator(setupAnswer.json.secret);
    assert.equal((await api.post(`${API}/me/two-factor/totp/confirm`, { code: await app.next() })).status, 200);

    // The application: registered like `twofold clients add`, discovering Twofold with openid-client.
    const rpServer = await callbackServer();
    t.after(() => new Promise<void>((r) => rpServer.server.close(() => r())));
    const { client, secret } = await addClient(server.ctx, { name: 'Wiki', redirectUris: [rpServer.url], postLogoutRedirectUris: [], public: false, firstParty: false, require2fa: true });
    const config = await oidc.discovery(new URL(base), client.id, {}, oidc.ClientSecretBasic(secret!), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: rpServer.url,
      scope: 'openid email groups',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });

    const context = await newContext(browser, PHONE);
    t.after(() => context.close());
    const page = await newPage(context);
    const phone = phoneCheck(page, SHOTS);
    await page.goto(authUrl.href);
    await page.getByRole('heading', { name: 'Log in', level: 1 }).waitFor();
    await submitLogin(page, address, PASSWORD);
    await page.getByLabel('Verification code', { exact: true }).fill(await app.next());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();

    await page.getByRole('heading', { name: 'Allow Wiki to use your account?', level: 1 }).waitFor();
    const asked = (await page.getByRole('list').last().textContent()) ?? '';
    assert.match(asked, /Your email address/);
    assert.match(asked, /The groups you belong to/);
    await assertAccessible(page, 'consent');
    await phone('consent');
    assertNoConsoleErrors(page);
    await page.getByRole('button', { name: 'Allow', exact: true }).click();

    const callback = await rpServer.arrived;
    assert.equal(callback.searchParams.get('state'), state);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
    const claims = tokens.claims()!;
    assert.equal(claims.email, address);
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.email, address);
  });
});
