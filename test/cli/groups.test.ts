import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, logTypes, PASSWORD } from '../helpers/totp.js';

for (const { kind, skip } of databaseKinds()) {
  describe(`twofold users groups (${kind})`, { skip }, () => {
    const secret = randomBytes(32).toString('base64');
    const dir = tempDir();
    let server: TestServer;
    let env: Record<string, string>;
    before(async () => {
      server = await startTestServer(kind, { clock: systemClock, env: { TWOFOLD_SECRET: secret } });
      env = { DATABASE_URL: server.database.url, TWOFOLD_SECRET: secret };
    });
    after(async () => {
      await server?.close();
      dir.remove();
    });
    const twofold = (args: string[]) => runCli(args, { cwd: dir.path, env });

    test('adds and removes groups, prints the result, and /me shows them to a live session at once', async () => {
      const client = server.client();
      assert.equal((await client.post(`${API}/signup`, { email: 'Grace@Example.com', password: PASSWORD })).status, 201);
      assert.deepEqual((await client.get(`${API}/me`)).json.groups, []);

      let r = await twofold(['users', 'groups', 'grace@example.com']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Grace@Example\.com is in no group/);

      r = await twofold(['users', 'groups', 'GRACE@example.com', '--add', 'Admins', '--add', 'ops', '--add', 'admins']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'admins\nops\n');
      assert.deepEqual((await client.get(`${API}/me`)).json.groups, ['admins', 'ops']);

      r = await twofold(['users', 'groups', 'grace@example.com', '--remove', 'ops', '--add', 'wiki']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'admins\nwiki\n');
      assert.deepEqual((await client.get(`${API}/me`)).json.groups, ['admins', 'wiki']);

      // Removing what is not there and adding what is already there change nothing.
      r = await twofold(['users', 'groups', 'grace@example.com', '--remove', 'nope', '--add', 'wiki']);
      assert.equal(r.stdout, 'admins\nwiki\n');

      const types = await logTypes(client);
      assert.equal(types.filter((t) => t === 'groups_changed').length, 2, types.join(', '));
    });

    test('a bad group name or unknown email: non-zero exit, clear message, nothing changed', async () => {
      const client = server.client();
      assert.equal((await client.post(`${API}/signup`, { email: 'ada@example.com', password: PASSWORD })).status, 201);
      assert.equal((await twofold(['users', 'groups', 'ada@example.com', '--add', 'ops'])).code, 0);

      let r = await twofold(['users', 'groups', 'ada@example.com', '--add', 'fine', '--add', 'not,ok']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /not a group name/);
      r = await twofold(['users', 'groups', 'ada@example.com', '--remove', 'ops', '--add', 'a b']);
      assert.notEqual(r.code, 0);
      assert.deepEqual((await client.get(`${API}/me`)).json.groups, ['ops']);

      r = await twofold(['users', 'groups', 'nobody@example.com', '--add', 'ops']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /nobody@example\.com was not found/);

      r = await twofold(['users', 'groups']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /exactly one email/);
      r = await twofold(['users', 'groups', 'ada@example.com', '--frobnicate']);
      assert.notEqual(r.code, 0);
    });
  });
}
