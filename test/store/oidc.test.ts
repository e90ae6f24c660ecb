import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sessionPolicy } from '../../src/core/session.js';
import { deleteExpiredRows } from '../../src/store/housekeeping.js';
import { consumePayload, deletePayloadsOfGrant, findPayload, upsertPayload } from '../../src/store/oidc.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { countRows } from '../helpers/snapshot.js';

const T0 = Date.UTC(2026, 0, 1);
const row = (id: string, over: Partial<Parameters<typeof upsertPayload>[1]> = {}) => ({
  model: 'AuthorizationCode',
  id,
  payload: JSON.stringify({ jti: id }),
  grantId: 'grant-1',
  userCode: null,
  uid: null,
  expiresAt: T0 + 60_000,
  ...over,
});

/** The provider adapter's table (SPEC §11): lookups, expiry, single use and housekeeping. */
for (const { kind, skip } of databaseKinds()) {
  describe(`OIDC provider state in the database (${kind})`, { skip }, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(kind);
    });
    after(async () => {
      await database?.drop();
    });

    test('found by id, uid and user code within its model, never after it expires', async () => {
      const db = database.store.db;
      await upsertPayload(db, row('a', { model: 'Session', uid: 'uid-a', userCode: 'UC-A' }));
      assert.ok(await findPayload(db, 'Session', 'id', 'a', T0));
      assert.ok(await findPayload(db, 'Session', 'uid', 'uid-a', T0));
      assert.ok(await findPayload(db, 'Session', 'user_code', 'UC-A', T0));
      assert.equal(await findPayload(db, 'Grant', 'id', 'a', T0), undefined, 'another model');
      assert.equal(await findPayload(db, 'Session', 'id', 'a', T0 + 60_000), undefined, 'expired');
      await upsertPayload(db, row('a', { model: 'Session', uid: 'uid-a', payload: '{"jti":"a","v":2}', expiresAt: T0 + 120_000 }));
      assert.equal((await findPayload(db, 'Session', 'id', 'a', T0 + 60_000))?.payload, '{"jti":"a","v":2}', 'upsert replaces');
    });

    test('consumed once, even by concurrent requests', async () => {
      const db = database.store.db;
      await upsertPayload(db, row('code-1'));
      const results = await Promise.all(Array.from({ length: 8 }, () => consumePayload(db, 'AuthorizationCode', 'code-1', T0 + 1000)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await findPayload(db, 'AuthorizationCode', 'id', 'code-1', T0 + 2000))?.consumedAt, T0 + 1000);
    });

    test('a grant revoked takes every token issued under it', async () => {
      const db = database.store.db;
      await upsertPayload(db, row('at-1', { model: 'AccessToken', grantId: 'grant-9' }));
      await upsertPayload(db, row('rt-1', { model: 'RefreshToken', grantId: 'grant-9' }));
      await upsertPayload(db, row('at-2', { model: 'AccessToken', grantId: 'grant-10' }));
      await deletePayloadsOfGrant(db, 'grant-9');
      assert.equal(await findPayload(db, 'AccessToken', 'id', 'at-1', T0), undefined);
      assert.equal(await findPayload(db, 'RefreshToken', 'id', 'rt-1', T0), undefined);
      assert.ok(await findPayload(db, 'AccessToken', 'id', 'at-2', T0));
    });

    test('housekeeping removes expired provider state and keeps the rest', async () => {
      const db = database.store.db;
      await upsertPayload(db, row('old', { expiresAt: T0 + 1 }));
      await upsertPayload(db, row('new', { expiresAt: T0 + 10 * 60_000 }));
      const before = await countRows(db, 'oidc_payloads');
      await deleteExpiredRows(db, T0 + 5 * 60_000, sessionPolicy(3_600_000, 86_400_000));
      assert.ok((await countRows(db, 'oidc_payloads')) < before);
      assert.equal(await findPayload(db, 'AuthorizationCode', 'id', 'old', 0), undefined);
      assert.ok(await findPayload(db, 'AuthorizationCode', 'id', 'new', T0));
    });
  });
}
