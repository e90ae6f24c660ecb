import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { runCli, tempDir } from '../helpers/cli.js';
import { PG_URL } from '../helpers/postgres.js';

const PASSWORD = 'correct horse battery';

describe('twofold backup <file>', { concurrency: 1 }, () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('copies the live SQLite database, accounts included, into a file only its owner can read', async () => {
    // The usual umask, under which a plainly created file is world-readable (0644).
    process.umask(0o022);
    const created = await runCli(['users', 'create', '--email', 'kept@example.com'], { cwd: dir.path, input: `${PASSWORD}\n` });
    assert.equal(created.code, 0, created.stderr);
    const file = join(dir.path, 'backup.db');
    const r = await runCli(['backup', file], { cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /backed up to/);
    // Hashes and sealed secrets: readable by the service's user only, whatever the umask.
    assert.equal(statSync(file).mode & 0o777, 0o600, `mode ${(statSync(file).mode & 0o777).toString(8)}`);
    const copy = new SQLite(file, { readonly: true });
    try {
      const row = copy.prepare('select email from users').get() as { email: string } | undefined;
      assert.equal(row?.email, 'kept@example.com');
      assert.equal((copy.pragma('integrity_check', { simple: true }) as string), 'ok');
    } finally {
      copy.close();
    }
  });

  test('refuses to overwrite an existing file, and needs exactly one file', async () => {
    const file = join(dir.path, 'backup.db');
    assert.ok(existsSync(file));
    const again = await runCli(['backup', file], { cwd: dir.path });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists/);
    const none = await runCli(['backup'], { cwd: dir.path });
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /backup needs exactly one file/);
  });

  test('on PostgreSQL it points at pg_dump', { skip: PG_URL ? false : 'needs TWOFOLD_TEST_DATABASE_URL' }, async () => {
    const r = await runCli(['backup', join(dir.path, 'pg.db')], {
      cwd: dir.path,
      env: { DATABASE_URL: PG_URL!, TWOFOLD_SECRET: Buffer.alloc(32, 7).toString('base64') },
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pg_dump/);
    // It refused before touching the database: nothing was migrated into it.
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const { rows } = await client.query("select to_regclass('public.twofold_migrations') as t");
      assert.equal(rows[0].t, null);
    } finally {
      await client.end();
    }
  });
});
