import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, codeAt, enableTwoFactor, nextStep, PASSWORD, totpLogin, signupWithTwoFactor } from '../helpers/totp.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const { kind, skip } of databaseKinds()) {
  describe(`ending every session: no racing login outlives it (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind);
    });
    after(async () => {
      await server?.close();
    });

    test('many logins racing a password change: every session they got ends with the old password', async () => {
      const email = 'racer@example.com';
      const passwords = [PASSWORD, 'second long passphrase', 'third long passphrase', 'fourth long passphrase'];
      const me = server.client();
      assert.equal((await me.post(`${API}/signup`, { email, password: passwords[0] })).status, 201);
      let granted = 0;
      for (let round = 0; round + 1 < passwords.length; round++) {
        const [current, next] = [passwords[round]!, passwords[round + 1]!];
        // Logins that arrive after the change fail; the per-address password throttle counts them.
        // Each round starts with a clean count, so the race is what is measured.
        await server.ctx.db.deleteFrom('password_attempts').execute();
        const change = me.post(`${API}/me/password`, { currentPassword: current, newPassword: next });
        // Logins with the old password, started over the time the change takes (it checks the
        // current password and hashes the new one before its write), so some of them read the old
        // hash before the write and insert their session after it.
        const logins: Promise<{ client: Client; status: number }>[] = [];
        for (let wave = 0; wave < 8; wave++) {
          for (let i = 0; i < 4; i++) {
            const client = server.client();
            logins.push(client.post(`${API}/login`, { email, password: current }).then((r) => ({ client, status: r.status })));
          }
          await sleep(15);
        }
        const changed = await change;
        assert.equal(changed.status, 204, changed.text);
        const results = await Promise.all(logins);
        // 401: it read the new password; 429: the throttle counted those failures first.
        for (const r of results) assert.ok([200, 401, 429].includes(r.status), `login answered ${r.status}`);
        const winners = results.filter((r) => r.status === 200);
        granted += winners.length;
        const survivors = (await Promise.all(winners.map(async (w) => (await w.client.get(`${API}/me`)).status))).filter((s) => s === 200);
        assert.equal(survivors.length, 0, `round ${round}: ${survivors.length} of ${winners.length} sessions from the old password survived`);
        assert.equal((await me.get(`${API}/me`)).status, 200, 'the session that changed the password stays');
      }
      assert.ok(granted > 0, 'some logins read the old password before the change (else the race was not run)');
    });

    test('disabling 2FA ends every other session and trusted device, not this one', async () => {
      const clock = manualClock();
      const local = await startTestServer(kind, { clock });
      try {
        const user = await signupWithTwoFactor(local, clock, 'disabler@example.com');
        const { client: other } = await totpLogin(local, clock, user);
        const { client: trusted } = await totpLogin(local, clock, user, { trustDevice: true });
        assert.equal((await other.get(`${API}/me`)).status, 200);
        const { client: me } = await totpLogin(local, clock, user);
        const r = await me.delete(`${API}/me/two-factor`, { password: PASSWORD });
        assert.equal(r.status, 204, r.text);
        assert.equal((await me.get(`${API}/me`)).status, 200, 'the session that disabled it stays');
        assert.equal((await other.get(`${API}/me`)).status, 401, 'another session ended');
        assert.equal((await trusted.get(`${API}/me`)).status, 401, 'the trusted browser’s session ended');
        // Turned on again: the old trusted-device cookie skips nothing.
        nextStep(clock);
        await enableTwoFactor(me, clock);
        const again = await trusted.post(`${API}/login`, { email: user.email, password: PASSWORD });
        assert.equal(again.json.status, 'two_factor_required');
        nextStep(clock);
        assert.ok(codeAt(user.secret, clock.now()));
      } finally {
        await local.close();
      }
    });
  });
}
