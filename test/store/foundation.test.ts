import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { latestMigration, migrateToLatest } from '../../src/store/migrate.js';
import { findSession, insertSession } from '../../src/store/sessions.js';
import { EmailTakenError, findUserByEmail, insertUser, type User } from '../../src/store/users.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { countRows } from '../helpers/snapshot.js';

function user(email: string): User {
  return {
    id: randomBytes(16).toString('base64url'),
    email,
    emailNormalized: email.toLowerCase(),
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$not-a-real-hash',
    createdAt: 1,
    passwordChangedAt: 1,
  };
}

for (const { kind, skip } of databaseKinds()) {
  describe(`store foundation (${kind})`, { skip }, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(kind);
    });
    after(async () => {
      await database?.drop();
    });

    test('migrations are versioned and idempotent', async () => {
      assert.deepEqual(await migrateToLatest(database.store), [], 'nothing left to apply');
      const rows = await database.store.db
        .selectFrom('twofold_migrations' as never)
        .select(sql<string>`name`.as('name'))
        .execute();
      assert.ok(rows.some((r) => r.name === latestMigration()));
    });

    test('email is unique regardless of case, by the index itself', async () => {
      const db = database.store.db;
      await insertUser(db, user('Unique@Example.com'));
      await assert.rejects(insertUser(db, user('unique@example.COM')), EmailTakenError);
      assert.equal((await findUserByEmail(db, 'unique@example.com'))?.email, 'Unique@Example.com');
    });

    test('sessions keep the pending flag and the last full authentication; deleting a user cascades', async () => {
      const db = database.store.db;
      const u = user('cascade@example.com');
      await insertUser(db, u);
      await insertSession(db, { id: 'h1', userId: u.id, createdAt: 10, lastSeenAt: 20, pending: true, authenticatedAt: null, ip: '127.0.0.1', userAgent: 'ua', amr: ['pwd'] });
      await insertSession(db, { id: 'h2', userId: u.id, createdAt: 10, lastSeenAt: 20, pending: false, authenticatedAt: 15, ip: null, userAgent: null, amr: ['pwd', 'otp', 'mfa'] });
      const pending = await findSession(db, 'h1');
      assert.deepEqual(pending?.session, { id: 'h1', userId: u.id, createdAt: 10, lastSeenAt: 20, pending: true, authenticatedAt: null, ip: '127.0.0.1', userAgent: 'ua', amr: ['pwd'] });
      const full = await findSession(db, 'h2');
      assert.equal(full?.session.pending, false);
      assert.equal(full?.session.authenticatedAt, 15);
      assert.deepEqual(full?.session.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(typeof full?.session.createdAt, 'number', 'bigint columns read back as numbers');
      await db.deleteFrom('users').where('id', '=', u.id).execute();
      assert.equal(await findSession(db, 'h1'), null);
      assert.equal(await countRows(db, 'sessions'), 0);
    });

    test('a session for an unknown user is refused (foreign keys are on)', async () => {
      await assert.rejects(
        insertSession(database.store.db, { id: 'h3', userId: 'nobody', createdAt: 1, lastSeenAt: 1, pending: false, authenticatedAt: 1, ip: null, userAgent: null, amr: [] }),
      );
    });

    test('times beyond 32 bits round-trip', async () => {
      const db = database.store.db;
      const u = { ...user('time@example.com'), createdAt: Date.UTC(2100, 0, 1), passwordChangedAt: Date.UTC(2100, 0, 1) };
      await insertUser(db, u);
      assert.equal((await findUserByEmail(db, 'time@example.com'))?.createdAt, Date.UTC(2100, 0, 1));
    });

    if (kind === 'sqlite') {
      test('SQLite runs in WAL mode with foreign keys and a busy timeout', async () => {
        const pragma = async (name: string) => {
          const r = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(database.store.db);
          return Object.values(r.rows[0]!)[0];
        };
        assert.equal(await pragma('journal_mode'), 'wal');
        assert.equal(await pragma('foreign_keys'), 1);
        assert.ok(Number(await pragma('busy_timeout')) >= 1000);
      });
    }
  });
}
