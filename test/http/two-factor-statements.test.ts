import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LogEvent } from 'kysely';
import { manualClock } from '../../src/core/clock.js';
import type { Answer } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, codeAt, logTypes, nextStep, pendingLogin, rowsOf, signupWithTwoFactor, totpLogin, userIdOf, wrongCode, type TwoFactorUser } from '../helpers/totp.js';

const BEGIN = /^\s*(begin|start transaction)\b/i;
const END = /^\s*(commit|rollback)\b/i;
/** The auth guard's session lookup, which every signed-in or pending request makes before the handler. */
const SESSION_LOOKUP = /^select .* from "sessions" inner join "users"/is;
const CLAIM = /^insert into "second_factor_attempts"/i;

interface Statements {
  answer: Answer;
  /** Transaction control, in order: 'begin', 'commit', 'rollback'. */
  control: string[];
  /** Statements run inside a transaction. */
  inside: string[];
  /** Statements run outside any transaction, the guard's session lookup taken off. */
  outside: string[];
}

/**
 * SPEC §13 asks for a fast second-factor step, and its cost is mostly its statements and commits.
 * These tests count them with Kysely's query log on the test server's own database, one request at
 * a time (nothing else runs on the test server meanwhile), so a change that adds a statement or a
 * commit to the step shows here.
 */
for (const { kind, skip } of databaseKinds()) {
  describe(`statements of the second-factor login step (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    let user: TwoFactorUser;
    let recording = false;
    const seen: string[] = [];
    const log = (e: LogEvent) => {
      if (recording && e.level === 'query') seen.push(e.query.sql);
    };

    before(async () => {
      server = await startTestServer(kind, { clock, log });
      user = await signupWithTwoFactor(server, clock, `statements-${kind}@example.com`);
    });
    after(async () => {
      await server?.close();
    });

    async function statementsOf(send: () => Promise<Answer>): Promise<Statements> {
      seen.length = 0;
      recording = true;
      let answer: Answer;
      try {
        answer = await send();
      } finally {
        recording = false;
      }
      const result: Statements = { answer, control: [], inside: [], outside: [] };
      let open = false;
      for (const sql of seen) {
        if (BEGIN.test(sql) || END.test(sql)) {
          result.control.push(sql.trim().split(/\s+/)[0]!.toLowerCase());
          open = BEGIN.test(sql);
        } else (open ? result.inside : result.outside).push(sql);
      }
      assert.match(result.outside.shift() ?? '', SESSION_LOOKUP, `the guard's session lookup comes first:\n${seen.join('\n')}`);
      return result;
    }

    const listing = (s: Statements) => [...s.outside.map((q) => `outside: ${q}`), ...s.inside.map((q) => `inside: ${q}`)].join('\n');

    test('a correct app code: one transaction of at most 6 statements, which begins by claiming the attempt', async () => {
      // From a browser that signed in before (it has its recognition cookie): a new one also looks
      // up earlier sign-ins and queues the new-browser notice.
      const { client: returning } = await totpLogin(server, clock, user);
      const c = await pendingLogin(server, user, returning);
      nextStep(clock);
      const s = await statementsOf(() => c.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()) }));
      assert.equal(s.answer.status, 200, s.answer.text);
      assert.deepEqual(s.control, ['begin', 'commit'], listing(s));
      assert.deepEqual(s.outside, [], listing(s));
      assert.ok(s.inside.length <= 6, `${s.inside.length} statements:\n${listing(s)}`);
      // Claim before check: nothing is read or written before the attempt is counted.
      assert.match(s.inside[0]!, CLAIM, listing(s));
      assert.equal((await c.get(`${API}/me`)).status, 200);
      assert.equal((await logTypes(c))[0], 'login');
    });

    test('a wrong app code: one transaction that counts the attempt and logs the failure', async () => {
      const userId = await userIdOf(server, user.email);
      const c = await pendingLogin(server, user);
      nextStep(clock);
      const s = await statementsOf(() => c.post(`${API}/login/two-factor`, { method: 'totp', code: wrongCode(user.secret, clock.now()) }));
      assert.equal(s.answer.status, 401, s.answer.text);
      assert.deepEqual(s.control, ['begin', 'commit'], listing(s));
      assert.deepEqual(s.outside, [], listing(s));
      assert.ok(s.inside.length <= 2, `${s.inside.length} statements:\n${listing(s)}`);
      assert.match(s.inside[0]!, CLAIM, listing(s));
      const [attempts] = await rowsOf(server, 'second_factor_attempts', userId);
      assert.equal(attempts?.failures, 1);
      // The login is still pending; the right code completes it, and the log has both.
      assert.equal((await c.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()) })).status, 200);
      assert.deepEqual((await logTypes(c)).slice(0, 2), ['login', 'second_factor_failed']);
    });

    test('a recovery code: the availability read, then one transaction', async () => {
      const c = await pendingLogin(server, user);
      const s = await statementsOf(() => c.post(`${API}/login/two-factor`, { method: 'recovery_code', code: user.recoveryCodes[0]! }));
      assert.equal(s.answer.status, 200, s.answer.text);
      assert.deepEqual(s.control, ['begin', 'commit'], listing(s));
      assert.equal(s.outside.length, 1, listing(s));
      assert.match(s.inside[0]!, CLAIM, listing(s));
      assert.equal((await c.get(`${API}/me`)).json.twoFactor.recoveryCodesRemaining, 9);
    });
  });
}
