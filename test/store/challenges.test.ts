import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { cryptoRandom } from '../../src/core/random.js';
import { CHALLENGE_TTL_MS } from '../../src/core/security-key.js';
import { createSession } from '../../src/core/session.js';
import { consumeChallenge, saveChallenge, type Challenge } from '../../src/store/challenges.js';
import { insertSession } from '../../src/store/sessions.js';
import { insertUser } from '../../src/store/users.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { countRows } from '../helpers/snapshot.js';

const T0 = Date.UTC(2026, 0, 1);

for (const { kind, skip } of databaseKinds()) {
  describe(`WebAuthn challenges in the database (${kind})`, { skip }, () => {
    let database: TestDatabase;
    let sessionA: string;
    let sessionB: string;
    let n = 0;
    before(async () => {
      database = await createTestDatabase(kind);
      const db = database.store.db;
      await insertUser(db, { id: 'user-1', email: 'c@example.com', emailNormalized: 'c@example.com', passwordHash: 'x', createdAt: T0, passwordChangedAt: T0 });
      const clock = manualClock(T0);
      const a = createSession({ userId: 'user-1', pending: true, fullyAuthenticated: false, amr: ['pwd'], ip: null, userAgent: null }, clock, cryptoRandom);
      const b = createSession({ userId: 'user-1', pending: false, fullyAuthenticated: true, amr: ['pwd'], ip: null, userAgent: null }, clock, cryptoRandom);
      await insertSession(db, a.session);
      await insertSession(db, b.session);
      sessionA = a.session.id;
      sessionB = b.session.id;
    });
    after(async () => {
      await database?.drop();
    });

    const challenge = (sessionId: string, purpose: string, at = T0): Challenge => ({
      id: `c${++n}`,
      sessionId,
      userId: 'user-1',
      purpose,
      challenge: `challenge-${n}`,
      createdAt: at,
      expiresAt: at + CHALLENGE_TTL_MS,
    });

    test('single use: the first consume gets it, the second finds nothing', async () => {
      const c = challenge(sessionA, 'authentication');
      await saveChallenge(database.store.db, c);
      const first = await consumeChallenge(database.store.db, sessionA, 'authentication', T0 + 1000);
      assert.ok(first.ok);
      assert.equal(first.challenge.challenge, c.challenge);
      assert.deepEqual(await consumeChallenge(database.store.db, sessionA, 'authentication', T0 + 2000), { ok: false, problem: 'missing' });
    });

    test('a new challenge for the same session and ceremony replaces the older one', async () => {
      const older = challenge(sessionA, 'authentication');
      const newer = challenge(sessionA, 'authentication');
      await saveChallenge(database.store.db, older);
      await saveChallenge(database.store.db, newer);
      const got = await consumeChallenge(database.store.db, sessionA, 'authentication', T0);
      assert.ok(got.ok);
      assert.equal(got.challenge.challenge, newer.challenge);
      assert.equal(await countRows(database.store.db, 'challenges'), 0);
    });

    test('bound to the session and the ceremony', async () => {
      await saveChallenge(database.store.db, challenge(sessionA, 'registration'));
      assert.deepEqual(await consumeChallenge(database.store.db, sessionB, 'registration', T0), { ok: false, problem: 'missing' });
      assert.deepEqual(await consumeChallenge(database.store.db, sessionA, 'reauthentication', T0), { ok: false, problem: 'missing' });
      assert.ok((await consumeChallenge(database.store.db, sessionA, 'registration', T0)).ok);
    });

    test('expired: refused, and gone all the same', async () => {
      await saveChallenge(database.store.db, challenge(sessionA, 'authentication'));
      assert.deepEqual(await consumeChallenge(database.store.db, sessionA, 'authentication', T0 + CHALLENGE_TTL_MS), { ok: false, problem: 'expired' });
      assert.equal(await countRows(database.store.db, 'challenges'), 0);
    });

    test('20 concurrent consumers of one challenge: exactly one gets it', async () => {
      await saveChallenge(database.store.db, challenge(sessionB, 'reauthentication'));
      const results = await Promise.all(Array.from({ length: 20 }, () => consumeChallenge(database.store.db, sessionB, 'reauthentication', T0)));
      assert.equal(results.filter((r) => r.ok).length, 1);
    });
  });
}
