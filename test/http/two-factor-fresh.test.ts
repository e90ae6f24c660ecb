import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Answer, Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import {
  API,
  PASSWORD,
  assertError,
  codeAt,
  enableTwoFactor,
  logTypes,
  nextStep,
  rowsOf,
  totpLogin,
  twoFactorSuite,
  userIdOf,
  wrongCode,
} from '../helpers/totp.js';

const MIN = 60_000;

/** The sensitive routes of SPEC §3, each with a body that would otherwise be accepted. */
function sensitiveRoutes(c: Client, deviceId: string): [string, () => Promise<Answer>][] {
  return [
    ['DELETE /me/two-factor', () => c.delete(`${API}/me/two-factor`, { password: PASSWORD })],
    ['GET recovery codes', () => c.get(`${API}/me/two-factor/recovery-codes`)],
    ['POST recovery codes', () => c.post(`${API}/me/two-factor/recovery-codes`)],
    ['GET recovery codes .txt', () => c.get(`${API}/me/two-factor/recovery-codes.txt`)],
    ['DELETE trusted device', () => c.delete(`${API}/me/trusted-devices/${deviceId}`)],
    ['POST /me/password', () => c.post(`${API}/me/password`, { currentPassword: PASSWORD, newPassword: 'another long passphrase' })],
  ];
}

for (const { kind, skip } of databaseKinds()) {
  describe(`fresh authentication for sensitive changes (${kind})`, { skip }, () => {
    const clock = manualClock();
    const suite = twoFactorSuite(kind, clock, 'fresh@example.com');
    let deviceId: string;
    let device: Client;
    before(async () => {
      device = (await totpLogin(suite.server, clock, suite.user, { trustDevice: true })).client;
      deviceId = ((await device.get(`${API}/me/trusted-devices`)).json as { id: string }[])[0]!.id;
      await device.post(`${API}/logout`);
    });

    /** What the sensitive routes would change, to prove a refusal changed nothing. */
    async function state() {
      const id = await userIdOf(suite.server, suite.user.email);
      return {
        totp: (await rowsOf(suite.server, 'totp_credentials', id)).length,
        codes: JSON.stringify(await rowsOf(suite.server, 'recovery_codes', id)),
        devices: (await rowsOf(suite.server, 'trusted_devices', id)).length,
        password: (await suite.server.ctx.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash,
      };
    }

    async function assertAllRefused(c: Client, what: string): Promise<void> {
      const before = await state();
      for (const [route, send] of sensitiveRoutes(c, deviceId)) assertError(await send(), 403, 'reauthentication_required', `${what}: ${route}`);
      assert.deepEqual(await state(), before, `${what}: a refused change changed something`);
      // The session itself still works for ordinary reads.
      assert.equal((await c.get(`${API}/me`)).status, 200);
    }

    test('a full login is fresh for 10 minutes: at 9:59 allowed, after that 403 on every sensitive route', async () => {
      const { client } = await totpLogin(suite.server, clock, suite.user);
      clock.advance(10 * MIN - 1000);
      assert.equal((await client.get(`${API}/me/two-factor/recovery-codes`)).status, 200, 'still fresh at 9:59');
      clock.advance(2000);
      await assertAllRefused(client, 'login 10:01 ago');
    });

    test('a login that skipped the second factor on a trusted device is not fresh', async () => {
      const r = await device.post(`${API}/login`, { email: suite.user.email, password: suite.user.password });
      assert.deepEqual(r.json, { status: 'ok' });
      await assertAllRefused(device, 'trusted-device login');
      await device.post(`${API}/logout`);
    });

    test('POST /me/reauthenticate: wrong password 401, wrong code 401, missing code 400; then password + code → 204 and fresh', async () => {
      const { client } = await totpLogin(suite.server, clock, suite.user);
      clock.advance(11 * MIN);
      nextStep(clock);
      const code = codeAt(suite.user.secret, clock.now());
      const re = (body: unknown) => client.post(`${API}/me/reauthenticate`, body);
      assertError(await re({ password: 'not the password', method: 'totp', code }), 401, 'invalid_credentials', 'wrong password');
      assertError(await re({ password: suite.user.password, method: 'totp', code: wrongCode(suite.user.secret, clock.now()) }), 401, 'invalid_code', 'wrong code');
      assertError(await re({ password: suite.user.password, method: 'recovery_code', code: 'aaaa-bbbb-cccc-dddd' }), 401, 'invalid_code', 'wrong recovery code');
      for (const body of [{ password: suite.user.password }, { password: suite.user.password, method: 'totp' }, { password: suite.user.password, code }]) {
        const r = await re(body);
        assert.equal(r.status, 400, `${JSON.stringify(Object.keys(body))}: ${r.text}`);
      }
      assertError(await client.get(`${API}/me/two-factor/recovery-codes`), 403, 'reauthentication_required', 'still not fresh');

      const ok = await re({ password: suite.user.password, method: 'totp', code });
      assert.equal(ok.status, 204, ok.text);
      assert.equal(ok.text, '');
      assert.equal((await client.get(`${API}/me/two-factor/recovery-codes`)).status, 200);
      assert.ok((await logTypes(client)).includes('reauthenticated'));
      // The code was used by the reauthentication.
      assertError(await re({ password: suite.user.password, method: 'totp', code }), 401, 'invalid_code', 'replay');

      // A recovery code is a valid proof too, and is used up.
      clock.advance(11 * MIN);
      assertError(await client.get(`${API}/me/two-factor/recovery-codes`), 403, 'reauthentication_required');
      const rc = suite.user.recoveryCodes[0]!;
      assert.equal((await re({ password: suite.user.password, method: 'recovery_code', code: rc })).status, 204);
      const view = await client.get(`${API}/me/two-factor/recovery-codes`);
      assert.equal(view.status, 200);
      assert.equal(view.json.codes[0].used, true);
    });

    test('reauthenticating makes a trusted-device session fresh', async () => {
      assert.deepEqual((await device.post(`${API}/login`, { email: suite.user.email, password: suite.user.password })).json, { status: 'ok' });
      assertError(await device.get(`${API}/me/two-factor/recovery-codes`), 403, 'reauthentication_required');
      nextStep(clock);
      const r = await device.post(`${API}/me/reauthenticate`, { password: suite.user.password, method: 'totp', code: codeAt(suite.user.secret, clock.now()) });
      assert.equal(r.status, 204, r.text);
      assert.equal((await device.get(`${API}/me/two-factor/recovery-codes`)).status, 200);
      await device.post(`${API}/logout`);
    });

    test('without 2FA: the password alone reauthenticates; confirming a new factor does not make the session fresher', async () => {
      const c = suite.server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'fresh-no-2fa@example.com', password: PASSWORD })).status, 201);
      clock.advance(11 * MIN);
      assertError(
        await c.post(`${API}/me/password`, { currentPassword: PASSWORD, newPassword: 'another long passphrase' }),
        403,
        'reauthentication_required',
      );
      assertError(await c.post(`${API}/me/reauthenticate`, { password: 'not the password' }), 401, 'invalid_credentials');
      assert.equal((await c.post(`${API}/me/reauthenticate`, { password: PASSWORD })).status, 204);
      clock.advance(8 * MIN);
      // Still fresh: the app can be set up; its code proves the app, not the person (SPEC §3).
      nextStep(clock);
      await enableTwoFactor(c, clock);
      assert.equal((await c.get(`${API}/me/two-factor/recovery-codes`)).status, 200, 'fresh from the reauthentication');
      clock.advance(3 * MIN);
      assertError(await c.get(`${API}/me/two-factor/recovery-codes`), 403, 'reauthentication_required', 'the new app did not make the session fresher');
    });

    test('adding an app needs a fresh authentication: setup and confirm refuse a stale or trusted-device session, and change nothing', async () => {
      // The review's attack: a stale session (or a stolen cookie, or a trusted-device login) adds
      // its own app, becomes fresh, and then removes the owner's factors.
      const c = suite.server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'fresh-attack@example.com', password: PASSWORD })).status, 201);
      const setup = await c.post(`${API}/me/two-factor/totp/setup`);
      assert.equal(setup.status, 200, 'fresh after signup');
      clock.advance(11 * MIN);
      nextStep(clock);
      const id = await userIdOf(suite.server, 'fresh-attack@example.com');
      assertError(await c.post(`${API}/me/two-factor/totp/setup`), 403, 'reauthentication_required', 'setup');
      assertError(await c.post(`${API}/me/two-factor/totp/confirm`, { code: codeAt(setup.json.secret, clock.now()) }), 403, 'reauthentication_required', 'confirm');
      const [cred] = await rowsOf(suite.server, 'totp_credentials', id);
      assert.equal(cred?.confirmed_at, null, 'the app was not turned on');
      assert.equal((await rowsOf(suite.server, 'recovery_codes', id)).length, 0);
      assertError(await c.get(`${API}/me/two-factor/recovery-codes`), 403, 'reauthentication_required');

      // On an account with 2FA, a trusted-device login (not fresh) cannot add an app either.
      assert.deepEqual((await device.post(`${API}/login`, { email: suite.user.email, password: suite.user.password })).json, { status: 'ok' });
      assertError(await device.post(`${API}/me/two-factor/totp/setup`), 403, 'reauthentication_required', 'trusted-device setup');
      await device.post(`${API}/logout`);
    });

    test('a pending login cannot reauthenticate', async () => {
      const c = suite.server.client();
      assert.equal((await c.post(`${API}/login`, { email: suite.user.email, password: suite.user.password })).json.status, 'two_factor_required');
      nextStep(clock);
      assertError(
        await c.post(`${API}/me/reauthenticate`, { password: suite.user.password, method: 'totp', code: codeAt(suite.user.secret, clock.now()) }),
        401,
        'unauthenticated',
      );
    });
  });
}
