import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { startAnotherNode, startTestServer, type TestServer } from '../helpers/server.js';
import { API, assertError, enableTwoFactor, nextStep, pendingLogin, signupWithTwoFactor, totpLogin, type TwoFactorUser } from '../helpers/totp.js';

/**
 * Rotating TWOFOLD_SECRET: a node given the new secret and the old one in TWOFOLD_SECRET_PREVIOUS
 * still opens what the old one sealed (TOTP secrets, viewable codes) and finds codes it hashed, while
 * everything it writes is sealed with the new one.
 */
for (const { kind, skip } of databaseKinds()) {
  describe(`rotating TWOFOLD_SECRET (${kind})`, { skip }, () => {
    const clock = manualClock(Date.now());
    const newSecret = randomBytes(32);
    let old: TestServer;
    let rotated: TestServer;
    let user: TwoFactorUser;
    before(async () => {
      old = await startTestServer(kind, { clock });
      user = await signupWithTwoFactor(old, clock, `rotate-${kind}@example.com`);
      rotated = await startAnotherNode(old, { clock, config: { secret: newSecret, previousSecrets: [old.config.secret] } });
    });
    after(async () => {
      await rotated?.close();
      await old?.close();
    });

    test('app codes, recovery codes and viewing the codes keep working under the new secret', async () => {
      const { client } = await totpLogin(rotated, clock, user);
      const view = await client.get(`${API}/me/two-factor/recovery-codes`);
      assert.equal(view.status, 200, view.text);
      assert.deepEqual(
        view.json.codes.map((c: { code: string }) => c.code),
        user.recoveryCodes,
      );
      const withCode = await (await pendingLogin(rotated, user)).post(`${API}/login/two-factor`, { method: 'recovery_code', code: user.recoveryCodes[0] });
      assert.equal(withCode.status, 200, withCode.text);
    });

    test('what the new node writes is sealed with the new secret alone', async () => {
      const { client } = await totpLogin(rotated, clock, user);
      assert.equal((await client.delete(`${API}/me/two-factor`, { password: user.password })).status, 204);
      nextStep(clock);
      const again = await enableTwoFactor(client, clock);
      const onlyNew = await startAnotherNode(old, { clock, config: { secret: newSecret, previousSecrets: [] } });
      try {
        const fresh = { ...user, secret: again.secret, recoveryCodes: again.recoveryCodes };
        await totpLogin(onlyNew, clock, fresh);
        const withCode = await (await pendingLogin(onlyNew, fresh)).post(`${API}/login/two-factor`, { method: 'recovery_code', code: again.recoveryCodes[0] });
        assert.equal(withCode.status, 200, withCode.text);
        // The old secret alone no longer opens them.
        nextStep(clock);
        const stale = await (await pendingLogin(old, fresh)).post(`${API}/login/two-factor`, { method: 'recovery_code', code: again.recoveryCodes[1] });
        assertError(stale, 401, 'invalid_code');
      } finally {
        await onlyNew.close();
      }
    });
  });
}
