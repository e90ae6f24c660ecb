import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { CompiledQuery } from 'kysely';
import { openStore } from '../../src/store/db.js';
import { addGroups } from '../../src/store/groups.js';
import { findSession, insertSession, touchSession } from '../../src/store/sessions.js';
import { insertUser } from '../../src/store/users.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';

const id = () => randomBytes(16).toString('base64url');

/**
 * The session lookups as one request makes them and as a burst of requests in one turn of the event
 * loop makes them (store/batch.ts): the same answers, for live, ended and unknown sessions, with
 * groups and what GET /me shows, in fewer queries. Batching is on by default for PostgreSQL; SQLite
 * runs it here too so the batched SQL is proven on both.
 */
for (const { kind, skip } of databaseKinds()) {
  describe(`store session lookups (${kind})`, { skip }, () => {
    let database: TestDatabase;
    let plain: TestDatabase;
    const lookups: string[] = [];
    let sessions: string[] = [];
    before(async () => {
      database = await createTestDatabase(kind, {
        batchLookups: true,
        log: (e) => {
          const text = (e.query as CompiledQuery).sql;
          if (e.level === 'query' && /from "sessions"|^update "sessions"/.test(text)) lookups.push(text);
        },
      });
      // The same database through a store that looks up one session per query.
      plain = { ...database, store: openStore(database.url, { batchLookups: false }) };
      const db = database.store.db;
      const now = Date.now();
      // Account 0 has TOTP, two keys, 3 of 4 recovery codes left and two groups; account 1 nothing;
      // account 2 ended every session (its generation moved on), so its session is not found.
      const users = [id(), id(), id()];
      for (const [i, u] of users.entries()) {
        await insertUser(db, { id: u, email: `p${i}@example.com`, emailNormalized: `p${i}@example.com`, passwordHash: 'x', createdAt: now, passwordChangedAt: now, credentialGeneration: i === 2 ? 2 : 1 });
      }
      await addGroups(db, users[0]!, ['ops', 'admins'], now);
      await db.insertInto('totp_credentials').values({ user_id: users[0]!, secret_enc: 'x', confirmed_at: now, last_used_step: null, created_at: now }).execute();
      for (const k of [1, 2]) {
        await db
          .insertInto('security_keys')
          .values({ id: id(), user_id: users[0]!, credential_id: id(), public_key: 'k', counter: 0, transports: null, name: `key ${k}`, created_at: now, last_used_at: null })
          .execute();
      }
      for (const position of [1, 2, 3, 4]) {
        await db.insertInto('recovery_codes').values({ id: id(), user_id: users[0]!, position, code_mac: id(), code_enc: null, used_at: position === 1 ? now : null, created_at: now }).execute();
      }
      sessions = [];
      for (let i = 0; i < 90; i++) {
        const s = { id: id(), userId: users[i % 3]!, createdAt: now, lastSeenAt: now, pending: i % 5 === 0, authenticatedAt: now, ip: '192.0.2.1', userAgent: 'test', amr: ['pwd' as const], credentialGeneration: 1 };
        await insertSession(db, s);
        sessions.push(s.id);
      }
    });
    after(async () => {
      await plain?.store.close();
      await database?.drop();
    });

    for (const opts of [{}, { groups: true }, { account: true }]) {
      test(`a burst of lookups ${JSON.stringify(opts)} answers as one-by-one lookups do, in a query per 32`, async () => {
        // Ten ids asked for twice in the first batch's turn, which share its query.
        const ids = [...sessions.slice(0, 10), ...sessions, 'unknown-session', id()];
        const one: unknown[] = [];
        for (const s of ids) one.push(await findSession(plain.store.db, s, opts));
        lookups.length = 0;
        const burst = await Promise.all(ids.map((s) => findSession(database.store.db, s, opts)));
        assert.deepEqual(burst, one);
        assert.equal(lookups.length, 3, `92 distinct ids in three queries, not ${lookups.length}`);

        const found = burst.filter((b) => b !== null);
        assert.equal(found.length, 60 + 7, 'the third account’s sessions are ended; unknown ids are not found');
        const first = burst[10]!;
        assert.equal(first.session.pending, true);
        assert.equal(first.email, 'p0@example.com');
        if ('groups' in opts || 'account' in opts) assert.deepEqual(first.groups, ['admins', 'ops']);
        else assert.equal(first.groups, undefined);
        if ('account' in opts) {
          assert.deepEqual(first.account, { emailVerified: false, twoFactor: { totp: true, securityKeys: 2, recoveryCodesRemaining: 3 } });
          assert.deepEqual(burst[11]!.account, { emailVerified: false, twoFactor: { totp: false, securityKeys: 0, recoveryCodesRemaining: 0 } });
          assert.deepEqual(burst[11]!.groups, []);
        }
      });
    }

    test('the touches of one turn are one write per 32 sessions, each session stamped', async () => {
      const db = database.store.db;
      const now = Date.now() + 60_000;
      lookups.length = 0;
      await Promise.all(sessions.slice(0, 40).map((s, i) => touchSession(db, s, now - (i % 2))));
      assert.deepEqual(lookups.map((q) => q.split(' ')[0]), ['update', 'update']);
      const seen = await db.selectFrom('sessions').select(['id', 'last_seen_at']).where('id', 'in', sessions.slice(0, 41)).execute();
      const at = new Map(seen.map((r) => [r.id, Number(r.last_seen_at)]));
      for (const s of sessions.slice(0, 40)) assert.equal(at.get(s), now);
      assert.notEqual(at.get(sessions[40]!), now, 'a session not touched keeps its time');
      // One by one, through the store that does not batch, as SQLite runs it.
      await touchSession(plain.store.db, sessions[40]!, now + 1);
      assert.equal(Number((await db.selectFrom('sessions').select('last_seen_at').where('id', '=', sessions[40]!).executeTakeFirstOrThrow()).last_seen_at), now + 1);
    });

    test('a lookup sees a write made before it was asked for', async () => {
      const db = database.store.db;
      const s = sessions[3]!;
      const before = findSession(db, s);
      await db.deleteFrom('sessions').where('id', '=', sessions[4]!).execute();
      const [a, b] = await Promise.all([before, findSession(db, sessions[4]!)]);
      assert.notEqual(a, null);
      assert.equal(b, null);
    });
  });
}
