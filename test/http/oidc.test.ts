import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { manualClock } from '../../src/core/clock.js';
import { rotateSigningKeys } from '../../src/service/oidc/keys.js';
import type { Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { actionOf, refreshOf, authRequest, browserFor, follow, form, POST_LOGOUT, REDIRECT, redeem, registerRp, submit, type Rp, type Stop } from '../helpers/oidc.js';
import { startAnotherNode, startTestServer, type TestServer } from '../helpers/server.js';
import { API, codeAt, enableTwoFactor, nextStep, PASSWORD, signupWithTwoFactor, userIdOf, type TwoFactorUser } from '../helpers/totp.js';
import { addGroups } from '../../src/store/groups.js';
import { markEmailVerified } from '../../src/store/users.js';

/** The parts of a JWT's header and payload, read without verifying (openid-client verified it). */
function jwtParts(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) };
}

for (const { kind, skip } of databaseKinds()) {
  describe(`OpenID Connect provider on ${kind}`, { skip }, () => {
    const clock = manualClock(Date.now());
    let server: TestServer;
    let user: TwoFactorUser;
    before(async () => {
      server = await startTestServer(kind, { clock, publicHost: true });
      user = await signupWithTwoFactor(server, clock, `oidc-${kind}@example.com`);
    });
    after(async () => {
      await server?.close();
    });

    /** Logs in through Twofold's pages (password, then an app code) from the login page `stop`. */
    async function pageLogin(browser: Client, stop: Stop, who: { email: string; secret?: string } = user): Promise<Stop> {
      assert.ok(stop.page && stop.path?.startsWith('/login'), `expected the login page, got ${stop.path} ${stop.callback} ${stop.page?.text.slice(0, 200)}`);
      const afterPassword = await submit(server, browser, stop.page, actionOf(stop.page), { email: who.email, password: PASSWORD });
      if (!who.secret) return afterPassword;
      assert.ok(afterPassword.path?.startsWith('/login/two-factor'), `expected the second factor, got ${afterPassword.path}`);
      nextStep(clock);
      return submit(server, browser, afterPassword.page!, actionOf(afterPassword.page!), { code: codeAt(who.secret, clock.now()) });
    }

    /** A whole sign-in from a fresh browser: login, second factor, consent when asked. */
    async function signIn(rp: Rp, params: Record<string, string> = {}, browser = browserFor(server)) {
      const req = await authRequest(rp, params);
      let stop = await pageLogin(browser, await follow(server, browser, req.url));
      if (stop.page?.text.includes('>Allow<')) stop = await submit(server, browser, stop.page, actionOf(stop.page), { decision: 'allow' });
      assert.ok(stop.callback, `${stop.path} ${stop.page?.status} ${stop.page?.text.slice(0, 400)}`);
      return { browser, req, callback: stop.callback, tokens: await redeem(rp, req, stop.callback) };
    }

    /** An authorization request from a browser that is already signed in: where it ends. */
    async function again(rp: Rp, browser: Client, params: Record<string, string> = {}) {
      const req = await authRequest(rp, params);
      return { req, stop: await follow(server, browser, req.url) };
    }

    test('discovery names the issuer and the endpoints under /oidc/; JWKS has an RS256 and an ES256 key', async () => {
      const r = await server.client().get('/.well-known/openid-configuration');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.issuer, server.publicUrl);
      for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'revocation_endpoint', 'end_session_endpoint']) {
        assert.ok(String(r.json[k]).startsWith(`${server.publicUrl}/oidc/`), `${k}: ${r.json[k]}`);
      }
      assert.deepEqual(r.json.code_challenge_methods_supported, ['S256']);
      assert.deepEqual([...r.json.scopes_supported].sort(), ['email', 'groups', 'offline_access', 'openid', 'profile']);
      const jwks = await server.client().get('/oidc/jwks');
      assert.deepEqual(jwks.json.keys.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256']);
      assert.ok(jwks.json.keys.every((k: Record<string, unknown>) => k.d === undefined), 'no private parts published');
    });

    test('code + PKCE, confidential client (client_secret_basic): login, second factor, consent, tokens, userinfo', async () => {
      const rp = await registerRp(server);
      const userId = await userIdOf(server, user.email);
      await addGroups(server.ctx.db, userId, ['devs', 'admins'], clock.now());
      const req = await authRequest(rp, { scope: 'openid email profile groups' });
      const browser = browserFor(server);
      let stop = await pageLogin(browser, await follow(server, browser, req.url));
      assert.ok(stop.page?.text.includes('Test App'), stop.page?.text.slice(0, 300));
      assert.match(stop.page!.text, /Your email address/);
      assert.match(stop.page!.text, /The groups you belong to/);
      stop = await submit(server, browser, stop.page!, actionOf(stop.page!), { decision: 'allow' });
      assert.ok(stop.callback, `${stop.path} ${stop.page?.status} ${stop.page?.text.slice(0, 400)}`);
      const tokens = await redeem(rp, req, stop.callback);
      const claims = tokens.claims()!;
      assert.equal(claims.email, user.email);
      assert.equal(claims.email_verified, false);
      assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(typeof claims.auth_time, 'number');
      assert.deepEqual(claims.groups, ['admins', 'devs']);
      assert.equal(claims.sub, userId, 'sub is the account id: stable and opaque');
      assert.equal(jwtParts(tokens.id_token!).header.alg, 'RS256');
      const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
      assert.equal(info.email, user.email);
      assert.equal(info.sub, claims.sub);
      assert.deepEqual(info.groups, ['admins', 'devs']);
      await markEmailVerified(server.ctx.db, userId, clock.now());
      const verified = await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
      assert.equal(verified.email_verified, true);
      assert.equal(tokens.refresh_token, undefined, 'no offline_access asked, no refresh token');
    });

    test('client_secret_post works; a wrong secret is invalid_client', async () => {
      const rp = await registerRp(server, {}, 'post');
      const { tokens } = await signIn(rp);
      assert.ok(tokens.access_token);
      const wrong = await oidc.discovery(new URL(server.publicUrl), rp.id, {}, oidc.ClientSecretPost('not-the-secret'), { execute: [oidc.allowInsecureRequests] });
      const { req, stop } = await again(rp, browserFor(server));
      void req;
      void stop;
      await assert.rejects(oidc.refreshTokenGrant(wrong, 'whatever'), (err: { error?: string }) => err.error === 'invalid_client');
    });

    test('a public client must use PKCE; with it, it signs in without a secret', async () => {
      const rp = await registerRp(server, { public: true });
      const browser = browserFor(server);
      const bare = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: REDIRECT, scope: 'openid', state: 's' });
      const refused = await follow(server, browser, bare);
      assert.ok(refused.callback, refused.page?.text.slice(0, 300));
      assert.equal(refused.callback.searchParams.get('error'), 'invalid_request');
      assert.match(refused.callback.searchParams.get('error_description') ?? '', /PKCE|code_challenge/i);
      const { tokens } = await signIn(rp, {}, browser);
      assert.ok(tokens.id_token);
    });

    test('redirect URIs are matched exactly', async () => {
      const rp = await registerRp(server);
      const req = await authRequest(rp, { redirect_uri: `${REDIRECT}/extra` });
      const stop = await follow(server, browserFor(server), req.url);
      assert.equal(stop.callback, undefined, 'never sent to an unregistered URI');
      assert.equal(stop.page?.status, 400);
      assert.match(stop.page!.text, /redirect_uri/);
    });

    test('refresh tokens (offline_access) rotate at each use; a used one is refused', async () => {
      const rp = await registerRp(server);
      const { tokens } = await signIn(rp, { scope: 'openid offline_access', prompt: 'consent' });
      assert.ok(tokens.refresh_token, 'a refresh token with offline_access');
      const first = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token);
      assert.ok(first.refresh_token && first.refresh_token !== tokens.refresh_token, 'rotated');
      const second = await oidc.refreshTokenGrant(rp.config, first.refresh_token);
      assert.ok(second.access_token && second.refresh_token);
      // A rotated-out token used again means it leaked: refused, and the whole grant ends with it.
      await assert.rejects(oidc.refreshTokenGrant(rp.config, tokens.refresh_token), (err: { error?: string }) => err.error === 'invalid_grant');
      await assert.rejects(oidc.refreshTokenGrant(rp.config, second.refresh_token!), (err: { error?: string }) => err.error === 'invalid_grant');
    });

    test('two redemptions of one code at once: exactly one gets tokens', async () => {
      const rp = await registerRp(server, { firstParty: true });
      const browser = browserFor(server);
      const req = await authRequest(rp);
      const stop = await pageLogin(browser, await follow(server, browser, req.url));
      assert.ok(stop.callback);
      const results = await Promise.allSettled([redeem(rp, req, stop.callback), redeem(rp, req, stop.callback)]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((failed.reason as { error?: string }).error, 'invalid_grant');
    });

    test('a first-party client gets no consent page; others ask once per person and client, and Deny is access_denied', async () => {
      const first = await registerRp(server, { firstParty: true });
      const { browser } = await signIn(first);
      const silent = await again(first, browser);
      assert.ok(silent.stop.callback?.searchParams.get('code'), 'no page at all');

      const other = await registerRp(server);
      const asked = await again(other, browser);
      assert.ok(asked.stop.page?.text.includes('>Allow<'), 'consent asked');
      const denied = await submit(server, browser, asked.stop.page!, actionOf(asked.stop.page!), { decision: 'deny' });
      assert.equal(denied.callback?.searchParams.get('error'), 'access_denied');

      const allowed = await again(other, browser);
      const granted = await submit(server, browser, allowed.stop.page!, actionOf(allowed.stop.page!), { decision: 'allow' });
      assert.ok(granted.callback?.searchParams.get('code'));

      // Remembered for the person, also in another browser.
      const elsewhere = browserFor(server);
      const req = await authRequest(other);
      const stop = await pageLogin(elsewhere, await follow(server, elsewhere, req.url));
      assert.ok(stop.callback?.searchParams.get('code'), `no second consent: ${stop.path}`);
    });

    test('prompt=none: silent for a signed-in person, login_required otherwise and after logging out of Twofold', async () => {
      const rp = await registerRp(server, { firstParty: true });
      const { browser } = await signIn(rp);
      const silent = await again(rp, browser, { prompt: 'none' });
      assert.ok(silent.stop.callback?.searchParams.get('code'), silent.stop.path);
      const tokens = await redeem(rp, silent.req, silent.stop.callback!);
      assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);

      const stranger = await again(rp, browserFor(server), { prompt: 'none' });
      assert.equal(stranger.stop.callback?.searchParams.get('error'), 'login_required');

      assert.equal((await browser.post(`${API}/logout`)).status, 204);
      const after = await again(rp, browser, { prompt: 'none' });
      assert.equal(after.stop.callback?.searchParams.get('error'), 'login_required', 'the Twofold session is the source of truth');
    });

    test('prompt=login forces a fresh login through Twofold pages, even when signed in', async () => {
      const rp = await registerRp(server, { firstParty: true });
      const { browser, tokens: before } = await signIn(rp);
      clock.advance(5_000);
      const { req, stop } = await again(rp, browser, { prompt: 'login' });
      assert.ok(stop.path?.startsWith('/login'), `sent to log in: ${stop.path} ${stop.callback}`);
      const done = await pageLogin(browser, stop);
      assert.ok(done.callback, done.path);
      const tokens = await redeem(rp, req, done.callback);
      assert.ok(Number(tokens.claims()!.auth_time) > Number(before.claims()!.auth_time), 'auth_time moved to the new login');
      assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);
    });

    test('max_age: a login older than it sends the person to log in again; a recent one passes', async () => {
      const rp = await registerRp(server, { firstParty: true });
      const { browser } = await signIn(rp);
      const recent = await again(rp, browser, { max_age: '600' });
      assert.ok(recent.stop.callback?.searchParams.get('code'), recent.stop.path);
      clock.advance(120_000);
      const old = await again(rp, browser, { max_age: '60' });
      assert.ok(old.stop.path?.startsWith('/login'), `sent to log in: ${old.stop.path} ${old.stop.callback}`);
      const done = await pageLogin(browser, old.stop);
      assert.ok(done.callback?.searchParams.get('code'), done.path);
      const none = await again(rp, browser, { max_age: '0', prompt: 'none' });
      assert.equal(none.stop.callback?.searchParams.get('error'), 'login_required');
    });

    test('--require-2fa: a person without 2FA is sent to set it up, then continues; amr shows the second factor', async () => {
      const rp = await registerRp(server, { firstParty: true, require2fa: true });
      const email = `no2fa-${kind}@example.com`;
      const api = server.client();
      assert.equal((await api.post(`${API}/signup`, { email, password: PASSWORD })).status, 201);
      const browser = browserFor(server);
      const req = await authRequest(rp);
      const stop = await pageLogin(browser, await follow(server, browser, req.url), { email });
      assert.match(stop.page?.text ?? '', /Two-factor authentication required/, stop.path);
      assert.match(stop.page!.text, /action="\/settings\/two-factor\/setup"/);
      // Set up in the same browser session (the API shares the session cookie), then continue.
      const sameSession = server.client();
      for (const [k, v] of browser.cookies) sameSession.cookies.set(k, v);
      await enableTwoFactor(sameSession, clock);
      const done = await follow(server, browser, stop.path!);
      assert.ok(done.callback, `${done.path} ${done.page?.text.slice(0, 300)}`);
      const tokens = await redeem(rp, req, done.callback);
      assert.ok((tokens.claims()!.amr as string[]).includes('mfa'));

      // A person with 2FA who skipped it on a trusted device is asked for it again.
      const trusted = server.client();
      const login1 = await trusted.post(`${API}/login`, { email: user.email, password: PASSWORD });
      assert.equal(login1.json.status, 'two_factor_required');
      nextStep(clock);
      assert.equal((await trusted.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()), trustDevice: true })).status, 200);
      assert.equal((await trusted.post(`${API}/logout`)).status, 204);
      assert.equal((await trusted.post(`${API}/login`, { email: user.email, password: PASSWORD })).json.status, 'ok', 'trusted device skips 2FA');
      const b2 = browserFor(server);
      for (const [k, v] of trusted.cookies) b2.cookies.set(k, v);
      const r2 = await again(rp, b2);
      assert.ok(r2.stop.path?.startsWith('/reauthenticate'), `asked for the second factor: ${r2.stop.path}`);
      const none = await again(rp, b2, { prompt: 'none' });
      assert.equal(none.stop.callback?.searchParams.get('error'), 'login_required');
    });

    test('RP-initiated logout ends the OIDC session and the Twofold session, then returns to the registered URI', async () => {
      const rp = await registerRp(server, { firstParty: true });
      const { browser, tokens } = await signIn(rp);
      const url = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT, state: 'bye' });
      const page = await follow(server, browser, url);
      assert.equal(page.page?.status, 200, page.page?.text.slice(0, 300));
      assert.match(page.page!.text, /Log out/);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.page!.text)![1]!;
      const action = new URL(actionOf(page.page!), server.publicUrl);
      const [body, headers] = form({ xsrf, logout: 'yes' });
      const r = await browser.post(action.pathname, body, headers);
      assert.equal(r.status, 303, r.text);
      const to = new URL(r.headers.get('location')!);
      assert.equal(to.origin + to.pathname, POST_LOGOUT);
      assert.equal(to.searchParams.get('state'), 'bye');
      assert.equal((await browser.get(`${API}/me`)).status, 401, 'Twofold session ended');
      const none = await again(rp, browser, { prompt: 'none' });
      assert.equal(none.stop.callback?.searchParams.get('error'), 'login_required');
      // An unregistered post-logout URI is refused.
      const bad = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/' });
      const refused = await follow(server, browserFor(server), bad);
      assert.equal(refused.page?.status, 400);
    });

    test('key rotation: new tokens are signed by the new key, the old key stays published', async () => {
      const rp = await registerRp(server, { firstParty: true });
      const before = await signIn(rp);
      const oldKid = jwtParts(before.tokens.id_token!).header.kid;
      await rotateSigningKeys(server.ctx);
      const jwks = await server.client().get('/oidc/jwks');
      const kids = jwks.json.keys.map((k: { kid: string }) => k.kid);
      assert.equal(kids.length, 4, 'two new keys and two retired ones');
      assert.ok(kids.includes(oldKid));
      const fresh = await registerRp(server, { firstParty: true });
      const after = await signIn(fresh);
      const newKid = jwtParts(after.tokens.id_token!).header.kid;
      assert.notEqual(newKid, oldKid);
      assert.ok(kids.includes(newKid));
    });
  });

  describe(`OpenID Connect across two nodes over one ${kind} database`, { skip }, () => {
    const clock = manualClock(Date.now());
    let a: TestServer;
    let b: TestServer;
    let user: TwoFactorUser;
    before(async () => {
      a = await startTestServer(kind, { clock, publicHost: true });
      b = await startAnotherNode(a, { clock });
      user = await signupWithTwoFactor(a, clock, `oidc-nodes-${kind}@example.com`);
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    test('each step on another node: authorize on A, interaction on B, consent on A, tokens and refresh on B', async () => {
      const rp = await registerRp(a);
      // The RP's back channel talks to node B; the browser alternates.
      rp.config[oidc.customFetch] = (url, options) => fetch(url.replace(a.publicUrl, b.url), options as RequestInit);
      const browser = browserFor(a);
      const onB = (path: string) => {
        const c = b.client();
        for (const [k, v] of browser.cookies) c.cookies.set(k, v);
        return c.get(path).then((r) => {
          for (const [k, v] of c.cookies) browser.cookies.set(k, v);
          return r;
        });
      };
      nextStep(clock);
      const api = a.client();
      await api.post(`${API}/login`, { email: user.email, password: PASSWORD });
      assert.equal((await api.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()) })).status, 200);
      for (const [k, v] of api.cookies) browser.cookies.set(k, v);

      const req = await authRequest(rp, { scope: 'openid email offline_access', prompt: 'consent' });
      const r1 = await browser.get(req.url.pathname + req.url.search);
      assert.equal(r1.status, 303);
      const interaction = new URL(r1.headers.get('location')!, a.publicUrl);
      const r2 = await onB(interaction.pathname);
      assert.ok(refreshOf(r2), r2.text.slice(0, 300));
      const resume = new URL(refreshOf(r2)!, a.publicUrl);
      const stop = await follow(a, browser, resume);
      assert.ok(stop.page?.text.includes('>Allow<'), stop.path);
      const done = await submit(a, browser, stop.page!, actionOf(stop.page!), { decision: 'allow' });
      assert.ok(done.callback, done.path);
      const tokens = await redeem(rp, req, done.callback);
      assert.equal(tokens.claims()!.email, user.email);
      const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
      assert.ok(refreshed.access_token);
      const info = await oidc.fetchUserInfo(rp.config, refreshed.access_token, tokens.claims()!.sub);
      assert.equal(info.email, user.email);
      // Two nodes redeeming one refresh token at once: one wins.
      const [x, y] = await Promise.allSettled([
        oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!),
        (async () => {
          const other = await oidc.discovery(new URL(a.publicUrl), rp.id, {}, oidc.ClientSecretBasic(rp.secret!), { execute: [oidc.allowInsecureRequests] });
          return oidc.refreshTokenGrant(other, refreshed.refresh_token!);
        })(),
      ]);
      assert.deepEqual([x.status, y.status].sort(), ['fulfilled', 'rejected']);
    });

    test('keys rotated through one node are used and published by the other', async () => {
      const before = await b.client().get('/oidc/jwks');
      await rotateSigningKeys(a.ctx);
      const after = await b.client().get('/oidc/jwks');
      assert.equal(after.json.keys.length, before.json.keys.length + 2);
    });
  });
}
