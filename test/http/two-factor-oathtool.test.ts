/**
 * End to end with an independent authenticator: the secret is read out of the otpauth URI the way an
 * app reads it, and every code comes from oathtool (OATH Toolkit), never from the project's TOTP code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock, systemClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { requireCommand } from '../helpers/tools.js';
import { API, PASSWORD, STEP_MS, assertError, oathtool, secretFromUri } from '../helpers/totp.js';

for (const { kind, skip } of databaseKinds()) {
  describe(`end to end with oathtool (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock: systemClock });
    });
    after(async () => {
      await server?.close();
    });

    test('real time: set up from the otpauth URI, confirm, log out, log in with the next code', async (t) => {
      if (!requireCommand(t, 'oathtool')) return;
      const email = 'oath@example.com';
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email, password: PASSWORD })).status, 201);
      const setup = await c.post(`${API}/me/two-factor/totp/setup`);
      assert.equal(setup.status, 200, setup.text);
      const secret = secretFromUri(setup.json.otpauthUri);
      assert.equal(secret, setup.json.secret, 'the URI carries the secret shown for manual entry');
      const uri = new URL(setup.json.otpauthUri);
      assert.equal(uri.host, 'totp');
      assert.equal(decodeURIComponent(uri.pathname), `/Twofold:${email}`);
      assert.equal(uri.searchParams.get('issuer'), 'Twofold');

      // Confirm with oathtool's code for now. Sampled once, so the login below uses the next step
      // even if a step boundary passes in between.
      const now = Date.now();
      const confirm = await c.post(`${API}/me/two-factor/totp/confirm`, { code: oathtool(secret, now) });
      assert.equal(confirm.status, 200, confirm.text);
      assert.equal(confirm.json.recoveryCodes.length, 10);
      assert.equal((await c.post(`${API}/logout`)).status, 204);

      const login = await c.post(`${API}/login`, { email, password: PASSWORD });
      assert.deepEqual(login.json, { status: 'two_factor_required', methods: ['totp', 'recovery_code'] });
      // The confirm code is used up.
      assertError(await c.post(`${API}/login/two-factor`, { method: 'totp', code: oathtool(secret, now) }), 401, 'invalid_code');
      const next = oathtool(secret, now + STEP_MS);
      const ok = await c.post(`${API}/login/two-factor`, { method: 'totp', code: next });
      assert.equal(ok.status, 200, ok.text);
      const me = await c.get(`${API}/me`);
      assert.equal(me.status, 200);
      assert.equal(me.json.twoFactor.enabled, true);
    });
  });

  describe(`end to end with oathtool on a manual clock (${kind})`, { skip }, () => {
    const clock = manualClock(Date.UTC(2026, 4, 17, 8, 0, 10));
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock, env: { TWOFOLD_ISSUER: 'Acme Login' } });
    });
    after(async () => {
      await server?.close();
    });

    test('oathtool --now: the window and the replay rule against an independent implementation', async (t) => {
      if (!requireCommand(t, 'oathtool')) return;
      const email = 'oath+clock@example.com';
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email, password: PASSWORD })).status, 201);
      const setup = await c.post(`${API}/me/two-factor/totp/setup`);
      const secret = secretFromUri(setup.json.otpauthUri);
      assert.equal(decodeURIComponent(new URL(setup.json.otpauthUri).pathname), `/Acme Login:${email}`);
      assert.equal((await c.post(`${API}/me/two-factor/totp/confirm`, { code: oathtool(secret, clock.now()) })).status, 200);
      await c.post(`${API}/logout`);

      const twoFactor = async (code: string) => {
        const p = server.client();
        assert.equal((await p.post(`${API}/login`, { email, password: PASSWORD })).json.status, 'two_factor_required');
        return p.post(`${API}/login/two-factor`, { method: 'totp', code });
      };
      clock.advance(5 * STEP_MS);
      const now = clock.now();
      assertError(await twoFactor(oathtool(secret, now - 2 * STEP_MS)), 401, 'invalid_code', 'T−2');
      assertError(await twoFactor(oathtool(secret, now + 2 * STEP_MS)), 401, 'invalid_code', 'T+2');
      assert.equal((await twoFactor(oathtool(secret, now - STEP_MS))).status, 200, 'T−1');
      assert.equal((await twoFactor(oathtool(secret, now + STEP_MS))).status, 200, 'T+1');
      assertError(await twoFactor(oathtool(secret, now)), 401, 'invalid_code', 'T after T+1');
      assertError(await twoFactor(oathtool(secret, now + STEP_MS)), 401, 'invalid_code', 'replay of T+1');
      clock.advance(2 * STEP_MS);
      assert.equal((await twoFactor(oathtool(secret, clock.now()))).status, 200, 'the next fresh code');
    });
  });
}
