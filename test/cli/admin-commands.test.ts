import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotTables } from '../helpers/snapshot.js';
import { API, assertError, PASSWORD, userIdOf } from '../helpers/totp.js';

const BIN = join(process.cwd(), 'bin', 'twofold.mjs');

function twofold(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

for (const { kind, skip } of databaseKinds()) {
  describe(`twofold users lock|unlock|delete and tokens (${kind})`, { skip }, () => {
    const secret = randomBytes(32).toString('base64');
    let server: TestServer;
    let env: Record<string, string>;
    before(async () => {
      server = await startTestServer(kind, { clock: systemClock, env: { TWOFOLD_SECRET: secret } });
      env = { DATABASE_URL: server.database.url, TWOFOLD_SECRET: secret };
    });
    after(async () => {
      await server?.close();
    });

    test('users lock ends the sessions and refuses login; unlock; delete removes the account; all in the audit log', async () => {
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'cli-lock@example.com', password: PASSWORD })).status, 201);
      const lock = await twofold(['users', 'lock', 'CLI-Lock@example.com'], env);
      assert.equal(lock.code, 0, lock.stderr);
      assert.match(lock.stdout, /cli-lock@example\.com locked/);
      assertError(await c.get(`${API}/me`), 401, 'unauthenticated');
      assertError(await server.client().post(`${API}/login`, { email: 'cli-lock@example.com', password: PASSWORD }), 403, 'account_locked');
      const unlock = await twofold(['users', 'unlock', 'cli-lock@example.com'], env);
      assert.equal(unlock.code, 0, unlock.stderr);
      assert.equal((await server.client().post(`${API}/login`, { email: 'cli-lock@example.com', password: PASSWORD })).status, 200);

      const id = await userIdOf(server, 'cli-lock@example.com');
      const del = await twofold(['users', 'delete', 'cli-lock@example.com'], env);
      assert.equal(del.code, 0, del.stderr);
      const tables = await snapshotTables(server.ctx.db);
      for (const [table, rows] of Object.entries(tables)) {
        if (table === 'admin_audit_log') continue;
        // Left on purpose: the notice of the deletion itself, still to be delivered.
        const left = rows.filter((r) => r.includes(id) && !(table === 'mail_outbox' && r.includes('"admin_action"')));
        assert.deepEqual(left, [], `${table} still has the account`);
      }
      const audit = await server.ctx.db.selectFrom('admin_audit_log').select(['action', 'actor', 'actor_kind']).where('target_user_id', '=', id).orderBy('id').execute();
      assert.deepEqual(audit.map((a) => a.action), ['lock', 'unlock', 'delete']);
      assert.ok(audit.every((a) => a.actor_kind === 'cli'));

      const missing = await twofold(['users', 'lock', 'nobody@example.com'], env);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /no account/);
      assert.notEqual((await twofold(['users', 'delete'], env)).code, 0);
    });

    test('tokens create prints the token alone on the last line; list shows one line per token, id first; revoke kills it', async () => {
      const created = await twofold(['tokens', 'create', '--name', 'nightly report'], env);
      assert.equal(created.code, 0, created.stderr);
      const lines = created.stdout.trimEnd().split('\n');
      const token = lines.at(-1)!;
      assert.match(token, /^twofold_admin_[A-Za-z0-9_-]{43}$/);
      const listed = await twofold(['tokens', 'list'], env);
      assert.equal(listed.code, 0, listed.stderr);
      const row = listed.stdout.trimEnd().split('\n').find((l) => l.includes('nightly report'))!;
      const id = row.split('\t')[0]!;
      assert.match(row, /active/);
      assert.ok(!listed.stdout.includes(token), 'list never shows the token');

      const dump = JSON.stringify(await snapshotTables(server.ctx.db));
      assert.ok(!dump.includes(token.slice('twofold_admin_'.length)), 'only a hash is stored');

      const ok = await server.client().get(`${API}/admin/users`, { authorization: `Bearer ${token}` });
      assert.equal(ok.status, 200, ok.text);
      const revoked = await twofold(['tokens', 'revoke', id], env);
      assert.equal(revoked.code, 0, revoked.stderr);
      assertError(await server.client().get(`${API}/admin/users`, { authorization: `Bearer ${token}` }), 401, 'unauthenticated');
      assert.match((await twofold(['tokens', 'list'], env)).stdout, /revoked/);
      assert.notEqual((await twofold(['tokens', 'revoke', id], env)).code, 0, 'revoking twice is an error');
      assert.notEqual((await twofold(['tokens', 'create'], env)).code, 0, '--name is required');
    });
  });
}
