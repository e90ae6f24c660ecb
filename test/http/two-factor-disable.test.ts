import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { API, assertError, logTypes, rowsOf, totpLogin, twoFactorSuite, userIdOf } from '../helpers/totp.js';

for (const { kind, skip } of databaseKinds()) {
  describe(`disable two-factor authentication (${kind})`, { skip }, () => {
    const clock = manualClock();
    const suite = twoFactorSuite(kind, clock, 'disable@example.com');

    async function secondFactorRows() {
      const id = await userIdOf(suite.server, suite.user.email);
      return {
        totp: await rowsOf(suite.server, 'totp_credentials', id),
        codes: await rowsOf(suite.server, 'recovery_codes', id),
        devices: await rowsOf(suite.server, 'trusted_devices', id),
      };
    }

    test('wrong password → 401 invalid_credentials and nothing changes', async () => {
      await totpLogin(suite.server, clock, suite.user, { trustDevice: true });
      const { client } = await totpLogin(suite.server, clock, suite.user);
      const before = await secondFactorRows();
      assert.equal(before.devices.length, 1);
      const r = await client.delete(`${API}/me/two-factor`, { password: 'not the password' });
      assertError(r, 401, 'invalid_credentials');
      assert.deepEqual(await secondFactorRows(), before);
      assert.deepEqual((await client.get(`${API}/me`)).json.twoFactor, { enabled: true, methods: ['totp', 'recovery_code'], recoveryCodesRemaining: 10 });
      assert.ok(!(await logTypes(client)).includes('two_factor_disabled'));
    });

    test('DELETE /me/two-factor {password} in a fresh session → 204; everything of SPEC §2 Disable is gone, and logged', async () => {
      const device = suite.server.client();
      await totpLogin(suite.server, clock, suite.user, { client: device, trustDevice: true });
      await device.post(`${API}/logout`);
      const { client } = await totpLogin(suite.server, clock, suite.user);

      const r = await client.delete(`${API}/me/two-factor`, { password: suite.user.password });
      assert.equal(r.status, 204, r.text);
      assert.equal(r.text, '');

      assert.deepEqual((await client.get(`${API}/me`)).json.twoFactor, { enabled: false, methods: [], recoveryCodesRemaining: 0 });
      const rows = await secondFactorRows();
      assert.deepEqual(rows, { totp: [], codes: [], devices: [] });
      const id = await userIdOf(suite.server, suite.user.email);
      assert.equal((await suite.server.ctx.db.selectFrom('security_keys').selectAll().where('user_id', '=', id).execute()).length, 0);
      assert.deepEqual((await client.get(`${API}/me/trusted-devices`)).json, []);
      const view = await client.get(`${API}/me/two-factor/recovery-codes`);
      assert.ok(view.status >= 400 && view.status < 500, `no codes to view: ${view.status}`);
      assert.ok(!suite.user.recoveryCodes.some((c) => view.text.includes(c)));

      // A login needs no second factor, from any browser.
      for (const c of [suite.server.client(), device]) {
        assert.deepEqual((await c.post(`${API}/login`, { email: suite.user.email, password: suite.user.password })).json, { status: 'ok' });
      }
      // With 2FA off the password alone reauthenticates.
      assert.equal((await client.post(`${API}/me/reauthenticate`, { password: suite.user.password })).status, 204);

      const types = await logTypes(client);
      assert.ok(types.includes('two_factor_disabled'), types.join(', '));

      // Disabling again changes nothing.
      const again = await client.delete(`${API}/me/two-factor`, { password: suite.user.password });
      assert.ok(again.status >= 400 && again.status < 500, again.text);

      // And it can be set up again, with a new secret.
      const setup = await client.post(`${API}/me/two-factor/totp/setup`);
      assert.equal(setup.status, 200, setup.text);
      assert.notEqual(setup.json.secret, suite.user.secret);
    });
  });
}
