import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { actionOf, authRequest, browserFor, follow, redeem, registerRp, submit, type Stop } from '../helpers/oidc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, codeAt, nextStep, PASSWORD, signupWithTwoFactor, type TwoFactorUser } from '../helpers/totp.js';
import type { Client } from '../helpers/client.js';

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

    /** Logs in through Twofold's pages from wherever the provider sent the browser. */
    async function pageLogin(browser: Client, stop: Stop): Promise<Stop> {
      assert.ok(stop.page && stop.path?.startsWith('/login'), `expected the login page, got ${stop.path} ${stop.callback}`);
      const afterPassword = await submit(server, browser, stop.page, actionOf(stop.page), { email: user.email, password: PASSWORD });
      assert.ok(afterPassword.path?.startsWith('/login/two-factor'), `expected the second factor, got ${afterPassword.path}`);
      nextStep(clock);
      return submit(server, browser, afterPassword.page!, actionOf(afterPassword.page!), { code: codeAt(user.secret, clock.now()) });
    }

    test('discovery names the issuer and the endpoints under /oidc/', async () => {
      const r = await server.client().get('/.well-known/openid-configuration');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.issuer, server.publicUrl);
      assert.equal(r.json.token_endpoint, `${server.publicUrl}/oidc/token`);
      assert.deepEqual(r.json.code_challenge_methods_supported, ['S256']);
      const jwks = await server.client().get('/oidc/jwks');
      assert.deepEqual(jwks.json.keys.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256']);
    });

    test('code + PKCE with a confidential client: login, second factor, consent, tokens, userinfo', async () => {
      const rp = await registerRp(server);
      const req = await authRequest(rp, { scope: 'openid email' });
      const browser = browserFor(server);
      let stop = await follow(server, browser, req.url);
      stop = await pageLogin(browser, stop);
      assert.ok(stop.page?.text.includes('Allow'), `consent page expected: ${stop.path} ${stop.page?.text.slice(0, 200)}`);
      stop = await submit(server, browser, stop.page!, actionOf(stop.page!), { decision: 'allow' });
      assert.ok(stop.callback, `${stop.path} ${stop.page?.status} ${stop.page?.text.slice(0, 400)}`);
      const tokens = await redeem(rp, req, stop.callback);
      const claims = tokens.claims()!;
      assert.equal(claims.email, user.email);
      assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'], JSON.stringify(claims));
      const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
      assert.equal(info.email, user.email);
      assert.equal(info.email_verified, false);
    });
  });
}
void API;
