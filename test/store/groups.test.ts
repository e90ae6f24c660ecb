import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addGroups, groupsOfUsers, listGroups, removeGroups, setGroups } from '../../src/store/groups.js';
import { insertUser } from '../../src/store/users.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';

async function newUser(database: TestDatabase, email: string): Promise<string> {
  const id = randomBytes(16).toString('base64url');
  await insertUser(database.store.db, { id, email, emailNormalized: email, passwordHash: 'x', createdAt: 1, passwordChangedAt: 1 });
  return id;
}

for (const { kind, skip } of databaseKinds()) {
  describe(`store groups (${kind})`, { skip }, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(kind);
    });
    after(async () => {
      await database?.drop();
    });

    test('add is idempotent, set replaces exactly, lists are per account, deleting the account removes them', async () => {
      const db = database.store.db;
      const a = await newUser(database, 'a@example.com');
      const b = await newUser(database, 'b@example.com');
      await addGroups(db, a, ['ops', 'admins'], 1);
      await addGroups(db, a, ['ops'], 2);
      await addGroups(db, b, ['wiki'], 1);
      assert.deepEqual(await listGroups(db, a), ['admins', 'ops']);
      await setGroups(db, a, ['ops', 'dev'], 3);
      assert.deepEqual(await listGroups(db, a), ['dev', 'ops']);
      await setGroups(db, b, [], 3);
      assert.deepEqual(await listGroups(db, b), []);
      await removeGroups(db, a, ['dev', 'missing']);
      assert.deepEqual(Object.fromEntries(await groupsOfUsers(db, [a, b])), { [a]: ['ops'], [b]: [] });
      await db.deleteFrom('users').where('id', '=', a).execute();
      assert.equal((await db.selectFrom('user_groups').selectAll().where('user_id', '=', a).execute()).length, 0);
    });
  });
}
