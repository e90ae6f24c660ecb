import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Answer, Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, assertError, codeAt, nextStep, pendingLogin, signupWithTwoFactor, wrongCode, type TwoFactorUser } from '../helpers/totp.js';

const WRONG_RECOVERY = ['abcd-efgh-jkmn-pqrs', 'zzzz-zzzz-zzzz-zzzz', '0000-1111-2222-3333'];

function assertLocked(r: Answer, retryAfterS: number, what: string): void {
  assertError(r, 429, 'too_many_attempts', what);
  assert.equal(r.headers.get('retry-after'), String(retryAfterS), `${what}: Retry-After`);
}

for (const { kind, skip } of databaseKinds()) {
  describe(`brute-force lockout (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock });
    });
    after(async () => {
      await server?.close();
    });

    let n = 0;
    const newUser = () => signupWithTwoFactor(server, clock, `lockout-${n++}@example.com`);
    const totp = (c: Client, code: string) => c.post(`${API}/login/two-factor`, { method: 'totp', code });
    const recovery = (c: Client, code: string) => c.post(`${API}/login/two-factor`, { method: 'recovery_code', code });
    const wrong = (u: TwoFactorUser, i = 0) => wrongCode(u.secret, clock.now(), i);

    test('the whole sequence: 5 mixed failures lock; even a correct code gets 429; 1 min doubling to the 1 h cap; a success resets', async () => {
      const u = await newUser();
      nextStep(clock);
      let c = await pendingLogin(server, u);
      let loginAt = clock.now();
      /** A pending login never older than 5 minutes: a new password login when needed (it does not reset the count). */
      const pending = async () => {
        if (clock.now() - loginAt >= 4 * 60_000) {
          c = await pendingLogin(server, u);
          loginAt = clock.now();
        }
        return c;
      };

      // Five failures, app codes and recovery codes mixed: each an ordinary 401.
      assertError(await totp(c, wrong(u, 0)), 401, 'invalid_code', '1st');
      assertError(await recovery(c, WRONG_RECOVERY[0]!), 401, 'invalid_code', '2nd');
      assertError(await totp(c, wrong(u, 1)), 401, 'invalid_code', '3rd');
      assertError(await recovery(c, WRONG_RECOVERY[1]!), 401, 'invalid_code', '4th');
      assertError(await totp(c, wrong(u, 2)), 401, 'invalid_code', '5th');
      // The 6th, even with the correct code of either kind, is refused.
      assertLocked(await totp(c, codeAt(u.secret, clock.now())), 60, 'correct app code while locked');
      assertLocked(await recovery(c, u.recoveryCodes[0]!), 60, 'correct recovery code while locked');
      clock.advance(30_000);
      assertLocked(await totp(await pending(), codeAt(u.secret, clock.now())), 30, 'half-way');
      // A new password login does not reset the count.
      c = await pendingLogin(server, u);
      loginAt = clock.now();
      assertLocked(await totp(c, codeAt(u.secret, clock.now())), 30, 'after a new password login');
      clock.advance(29_000);
      assertLocked(await totp(c, wrong(u)), 1, 'one second left');

      // After the lock a wrong code is checked (401) and locks for twice as long; and so on to 1 hour.
      let delayS = 60;
      for (const expected of [120, 240, 480, 960, 1920, 3600, 3600]) {
        clock.advance(delayS * 1000);
        assertError(await totp(await pending(), wrong(u)), 401, 'invalid_code', `after ${delayS} s`);
        assertLocked(await totp(await pending(), codeAt(u.secret, clock.now())), expected, `lock after ${delayS} s`);
        delayS = expected;
      }
      // One second short of the end: still locked.
      clock.advance(3599_000);
      assertLocked(await totp(await pending(), codeAt(u.secret, clock.now())), 1, 'last second');
      clock.advance(1000);
      nextStep(clock);
      const ok = await totp(await pending(), codeAt(u.secret, clock.now()));
      assert.equal(ok.status, 200, ok.text);

      // The success reset the count: four failures do not lock.
      c = await pendingLogin(server, u);
      loginAt = clock.now();
      for (let i = 0; i < 4; i++) assertError(await totp(c, wrong(u, i)), 401, 'invalid_code', `failure ${i + 1} after the reset`);
      nextStep(clock);
      assert.equal((await totp(c, codeAt(u.secret, clock.now()))).status, 200);

      // Failures and locks are in the security log.
      const log = await c.get(`${API}/me/security-log?limit=100`);
      const events = log.json as { type: string; detail: Record<string, unknown> | null }[];
      const failed = events.filter((e) => e.type === 'second_factor_failed');
      assert.ok(failed.length >= 5 + 7 + 4, `${failed.length} second_factor_failed events`);
      assert.ok(failed.some((e) => e.detail?.method === 'recovery_code'));
      assert.ok(failed.some((e) => e.detail?.method === 'totp'));
      const locks = events.filter((e) => e.type === 'lockout');
      assert.ok(locks.length >= 8, `${locks.length} lockout events`);
      const logText = JSON.stringify(events);
      for (const code of [...WRONG_RECOVERY, u.recoveryCodes[0]!]) assert.ok(!logText.includes(code), 'no code in the log');
    });

    test('the count is per account across sessions, and other accounts are not affected', async () => {
      const u = await newUser();
      const bystander = await newUser();
      nextStep(clock);
      const a = await pendingLogin(server, u);
      const b = await pendingLogin(server, u);
      for (let i = 0; i < 3; i++) assertError(await totp(a, wrong(u, i)), 401, 'invalid_code');
      for (let i = 0; i < 2; i++) assertError(await recovery(b, WRONG_RECOVERY[i]!), 401, 'invalid_code');
      const c = await pendingLogin(server, u);
      assertLocked(await totp(c, codeAt(u.secret, clock.now())), 60, 'a third session');
      assertLocked(await totp(a, codeAt(u.secret, clock.now())), 60, 'the first session');
      // POST /me/reauthenticate shares the lock.
      assertLocked(
        await u.client.post(`${API}/me/reauthenticate`, { password: u.password, method: 'totp', code: codeAt(u.secret, clock.now()) }),
        60,
        'reauthenticate',
      );
      const other = await pendingLogin(server, bystander);
      assert.equal((await totp(other, codeAt(bystander.secret, clock.now()))).status, 200);
    });

    test('concurrent wrong guesses over several pending logins: exactly 5 are checked, every other one is refused', async () => {
      const u = await newUser();
      nextStep(clock);
      const logins = await Promise.all([0, 1, 2, 3].map(() => pendingLogin(server, u)));
      // App codes and recovery codes at once, spread over four pending logins of the account.
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) => {
          const c = logins[i % logins.length]!;
          return i % 2 === 0 ? totp(c, wrong(u, i)) : recovery(c, WRONG_RECOVERY[i % WRONG_RECOVERY.length]!);
        }),
      );
      const summary = answers.map((a) => `${a.status} ${a.json?.error?.code ?? ''}`).join(', ');
      assert.equal(answers.filter((a) => a.status === 401 && a.json.error.code === 'invalid_code').length, 5, summary);
      for (const a of answers) if (a.status !== 401) assertLocked(a, 60, summary);
      // The lock holds for the right code too, on every pending login.
      for (const c of logins) assertLocked(await totp(c, codeAt(u.secret, clock.now())), 60, 'a correct code after the burst');
      const events = ((await u.client.get(`${API}/me/security-log?limit=100`)).json as { type: string }[]).map((e) => e.type);
      assert.equal(events.filter((t) => t === 'second_factor_failed').length, 5, events.join(', '));
      assert.equal(events.filter((t) => t === 'lockout').length, 1, events.join(', '));
      assert.equal(events.filter((t) => t === 'login').length, 0, events.join(', '));
    });

    test('malformed codes do not count', async () => {
      const u = await newUser();
      nextStep(clock);
      const c = await pendingLogin(server, u);
      for (let i = 0; i < 4; i++) assertError(await totp(c, wrong(u, i)), 401, 'invalid_code');
      const malformed: [string, string][] = [
        ['totp', '12345'],
        ['totp', '1234567'],
        ['totp', 'abcdef'],
        ['totp', ''],
        ['totp', '9'.repeat(100)],
        ['recovery_code', 'short'],
        ['recovery_code', 'abcd-efgh-jkmn-pqrs-tvwx'],
        ['recovery_code', 'abcd-efgh-jkmn-pqr!'],
        ['recovery_code', ''],
      ];
      for (const [method, code] of malformed) {
        const r = await c.post(`${API}/login/two-factor`, { method, code });
        assert.ok(r.status === 400 || r.status === 401, `${method} ${JSON.stringify(code)}: ${r.status} ${r.text}`);
        assert.notEqual(r.json.error.code, 'too_many_attempts');
      }
      const ok = await totp(c, codeAt(u.secret, clock.now()));
      assert.equal(ok.status, 200, `4 real failures + malformed ones must not lock: ${ok.text}`);
    });

    test('a success resets the count', async () => {
      const u = await newUser();
      for (let round = 0; round < 3; round++) {
        nextStep(clock);
        const c = await pendingLogin(server, u);
        for (let i = 0; i < 4; i++) assertError(await totp(c, wrong(u, i)), 401, 'invalid_code');
        assert.equal((await totp(c, codeAt(u.secret, clock.now()))).status, 200, `round ${round}`);
      }
    });
  });
}
