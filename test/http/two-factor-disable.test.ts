import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, assertError, logTypes, rowsOf, signupWithTwoFactor, totpLogin, userIdOf, type TwoFactorUser } from '../helpers/totp.js';

for (const { kind, skip } of databaseKinds()) {
  describe(`disable two-factor authentication (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    let user: TwoFactorUser;
    before(async () => {
      server = await startTestServer(kind, { clock });
      user = await signupWithTwoFactor(server, clock, 'disable@example.com');
    });
    after(async () => {
      await server?.close();
    });

    async function secondFactorRows() {
      const id = await userIdOf(server, user.email);
      return {
        totp: await rowsOf(server, 'totp_credentials', id),
        codes: await rowsOf(server, 'recovery_codes', id),
        devices: await rowsOf(server, 'trusted_devices', id),
      };
    }

    test('wrong password → 401 invalid_credentials and nothing changes', async () => {
      await totpLogin(server, clock, user, { trustDevice: true });
      const { client } = await totpLogin(server, clock, user);
      const before = await secondFactorRows();
      assert.equal(before.devices.length, 1);
      const r = await client.delete(`${API}/me/two-factor`, { password: 'not the password' });
      assertError(r, 401, 'invalid_credentials');
      assert.deepEqual(await secondFactorRows(), before);
      assert.deepEqual((await client.get(`${API}/me`)).json.twoFactor, { enabled: true, methods: ['totp', 'recovery_code'], recoveryCodesRemaining: 10 });
      assert.ok(!(await logTypes(client)).includes('two_factor_disabled'));
    });

    test('DELETE /me/two-factor {password} in a fresh session → 204; everything of SPEC §2 Disable is gone, and logged', async () => {
      const device = server.client();
      await totpLogin(server, clock, user, { client: device, trustDevice: true });
      await device.post(`${API}/logout`);
      const { client } = await totpLogin(server, clock, user);

      const r = await client.delete(`${API}/me/two-factor`, { password: user.password });
      assert.equal(r.status, 204, r.text);
      assert.equal(r.text, '');

      assert.deepEqual((await client.get(`${API}/me`)).json.twoFactor, { enabled: false, methods: [], recoveryCodesRemaining: 0 });
      const rows = await secondFactorRows();
      assert.deepEqual(rows, { totp: [], codes: [], devices: [] });
      const id = await userIdOf(server, user.email);
      assert.equal((await server.ctx.db.selectFrom('security_keys').selectAll().where('user_id', '=', id).execute()).length, 0);
      assert.deepEqual((await client.get(`${API}/me/trusted-devices`)).json, []);
      const view = await client.get(`${API}/me/two-factor/recovery-codes`);
      assert.ok(view.status >= 400 && view.status < 500, `no codes to view: ${view.status}`);
      assert.ok(!user.recoveryCodes.some((c) => view.text.includes(c)));

      // A login needs no second factor, from any browser.
      for (const c of [server.client(), device]) {
        assert.deepEqual((await c.post(`${API}/login`, { email: user.email, password: user.password })).json, { status: 'ok' });
      }
      // With 2FA off the password alone reauthenticates.
      assert.equal((await client.post(`${API}/me/reauthenticate`, { password: user.password })).status, 204);

      const types = await logTypes(client);
      assert.ok(types.includes('two_factor_disabled'), types.join(', '));

      // Disabling again changes nothing.
      const again = await client.delete(`${API}/me/two-factor`, { password: user.password });
      assert.ok(again.status >= 400 && again.status < 500, again.text);

      // And it can be set up again, with a new secret.
      const setup = await client.post(`${API}/me/two-factor/totp/setup`);
      assert.equal(setup.status, 200, setup.text);
      assert.notEqual(setup.json.secret, user.secret);
    });
  });
}
