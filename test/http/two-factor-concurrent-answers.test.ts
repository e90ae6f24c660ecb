import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import type { TestServer } from '../helpers/server.js';
import { API, codeForStep, logTypes, nextStep, pendingLogin, rowsOf, stepOf, twoFactorSuite, userIdOf, type TwoFactorUser } from '../helpers/totp.js';

/** What a login leaves behind: the account's signed-in sessions and 'login' events. */
async function loginTraces(server: TestServer, user: TwoFactorUser): Promise<{ sessions: number; logins: number }> {
  const sessions = (await rowsOf(server, 'sessions', await userIdOf(server, user.email))).filter((r) => Number(r.pending) === 0).length;
  const logins = (await logTypes(user.client)).filter((t) => t === 'login').length;
  return { sessions, logins };
}

for (const { kind, skip } of databaseKinds()) {
  describe(`concurrent answers on one pending login (${kind})`, { skip }, () => {
    const clock = manualClock();
    const suite = twoFactorSuite(kind, clock, 'concurrent@example.com');

    test('20 concurrent recovery-code answers with valid codes: exactly one login, exactly one code used', async () => {
      const { server, user } = suite;
      const client = await pendingLogin(server, user);
      const before = await loginTraces(server, user);
      // Every one of the 10 codes, twice over, all at once on the same pending login.
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => client.post(`${API}/login/two-factor`, { method: 'recovery_code', code: user.recoveryCodes[i % 10] })),
      );
      const ok = answers.filter((a) => a.status === 200);
      assert.equal(ok.length, 1, answers.map((a) => `${a.status} ${a.json?.error?.code ?? ''}`).join(', '));
      for (const a of answers) if (a.status !== 200) assert.ok([401, 429].includes(a.status), `${a.status} ${a.text}`);
      const used = (await rowsOf(server, 'recovery_codes', await userIdOf(server, user.email))).filter((r) => r.used_at !== null);
      assert.equal(used.length, 1, `${used.length} recovery codes were used up by one login`);
      const me = await client.get(`${API}/me`);
      assert.equal(me.json.twoFactor.recoveryCodesRemaining, 9);
      // One session issued, one login in the security log.
      assert.deepEqual(await loginTraces(server, user), { sessions: before.sessions + 1, logins: before.logins + 1 });
    });

    test('concurrent app codes (steps before, now and after) on one pending login: one login, one step used', async () => {
      const { server, user } = suite;
      await server.ctx.db.deleteFrom('second_factor_attempts').execute();
      const client = await pendingLogin(server, user);
      const before = await loginTraces(server, user);
      nextStep(clock);
      nextStep(clock);
      const now = stepOf(clock.now());
      const codes = [now - 1, now, now + 1].map((s) => codeForStep(user.secret, s));
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => client.post(`${API}/login/two-factor`, { method: 'totp', code: codes[i % 3] })));
      assert.equal(answers.filter((a) => a.status === 200).length, 1, answers.map((a) => `${a.status} ${a.json?.error?.code ?? ''}`).join(', '));
      for (const a of answers) if (a.status !== 200) assert.ok(['invalid_code', 'no_pending_login', 'too_many_attempts'].includes(a.json.error.code), a.text);
      assert.deepEqual(await loginTraces(server, user), { sessions: before.sessions + 1, logins: before.logins + 1 });
      // Only the winner's step was used: a code of a later step still works at the next login.
      const [cred] = await rowsOf(server, 'totp_credentials', await userIdOf(server, user.email));
      const winner = Number(cred!.last_used_step);
      assert.ok(winner >= now - 1 && winner <= now + 1);
      if (winner < now + 1) {
        await server.ctx.db.deleteFrom('second_factor_attempts').execute();
        const next = await pendingLogin(server, user);
        const r = await next.post(`${API}/login/two-factor`, { method: 'totp', code: codeForStep(user.secret, now + 1) });
        assert.equal(r.status, 200, r.text);
      }
    });
  });
}
