import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Session } from '../../src/core/session.js';
import { endEverySession } from '../../src/store/credential-generation.js';
import { findSession, insertSession } from '../../src/store/sessions.js';
import { findUsableTrustedDevice, insertTrustedDevice, listTrustedDevices } from '../../src/store/trusted-devices.js';
import { findUserById, insertUser, updatePasswordHash } from '../../src/store/users.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';

const id = () => randomBytes(12).toString('base64url');

function session(userId: string, credentialGeneration: number, pending = false): Session {
  return { id: id(), userId, createdAt: 1, lastSeenAt: 1, pending, authenticatedAt: pending ? null : 1, ip: null, userAgent: null, amr: ['pwd'], credentialGeneration };
}

for (const { kind, skip } of databaseKinds()) {
  describe(`credential generation: ending every session is one write (${kind})`, { skip }, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(kind);
    });
    after(async () => {
      await database?.drop();
    });

    async function newUser(): Promise<string> {
      const userId = id();
      await insertUser(database.store.db, {
        id: userId,
        email: `${userId}@example.com`,
        emailNormalized: `${userId}@example.com`.toLowerCase(),
        passwordHash: 'old-hash',
        createdAt: 1,
        passwordChangedAt: 1,
        credentialGeneration: 0,
      });
      return userId;
    }

    test('sessions and devices of the old generation are not found; the kept one is; a login that read the old generation is dead on arrival', async () => {
      const db = database.store.db;
      const userId = await newUser();
      const other = session(userId, 0);
      const pending = session(userId, 0, true);
      const mine = session(userId, 0);
      for (const s of [other, pending, mine]) await insertSession(db, s);
      const device = { id: id(), userId, tokenHash: id(), label: 'Firefox on Linux', createdAt: 1, expiresAt: 10_000, lastUsedAt: null, credentialGeneration: 0 };
      await insertTrustedDevice(db, device);
      assert.ok(await findSession(db, other.id));
      assert.ok(await findUsableTrustedDevice(db, device.tokenHash, userId, 2));

      // A login reads the account (hash and generation) before the change…
      const readBefore = await findUserById(db, userId);
      assert.equal(readBefore?.credentialGeneration, 0);

      const ended = await endEverySession(db, userId, { keep: mine.id, before: (tx) => updatePasswordHash(tx, userId, 'new-hash', 2) });
      assert.deepEqual(ended, { generation: 1, sessions: 2, devices: 1 });
      const after = await findUserById(db, userId);
      assert.equal(after?.passwordHash, 'new-hash', 'the new hash was stored in the same transaction');
      assert.equal(after?.credentialGeneration, 1);

      assert.equal(await findSession(db, other.id), null);
      assert.equal(await findSession(db, pending.id), null);
      const kept = await findSession(db, mine.id);
      assert.equal(kept?.session.credentialGeneration, 1, 'the session that made the change is re-stamped and stays');

      // …and inserts its session and trusted device after it: both are dead on arrival.
      const late = session(userId, readBefore!.credentialGeneration);
      await insertSession(db, late);
      assert.equal(await findSession(db, late.id), null);
      const lateDevice = { ...device, id: id(), tokenHash: id(), credentialGeneration: readBefore!.credentialGeneration };
      await insertTrustedDevice(db, lateDevice);
      assert.equal(await findUsableTrustedDevice(db, lateDevice.tokenHash, userId, 2), null);
      assert.deepEqual(await listTrustedDevices(db, userId, 2), [], 'a dead device is not listed either');

      // A login that read the new generation lives.
      const fresh = session(userId, after!.credentialGeneration);
      await insertSession(db, fresh);
      assert.ok(await findSession(db, fresh.id));
    });

    test('without a kept session every session ends; other accounts are untouched', async () => {
      const db = database.store.db;
      const a = await newUser();
      const b = await newUser();
      const sa = session(a, 0);
      const sb = session(b, 0);
      await insertSession(db, sa);
      await insertSession(db, sb);
      await endEverySession(db, a);
      await endEverySession(db, a);
      assert.equal(await findSession(db, sa.id), null);
      assert.ok(await findSession(db, sb.id));
      assert.equal((await findUserById(db, a))?.credentialGeneration, 2);
      assert.equal((await findUserById(db, b))?.credentialGeneration, 0);
    });
  });
}
