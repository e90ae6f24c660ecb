import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { runCli, tempDir } from '../helpers/cli.js';
import { databaseKinds } from '../helpers/databases.js';
import { createEmptyPostgres, PG_URL } from '../helpers/postgres.js';

const pgSkip = databaseKinds().find((d) => d.kind === 'postgres')!.skip;
const PASSWORD = 'correct horse battery';

/** `table.column` names of the application tables. */
function sqliteColumns(file: string): string[] {
  const db = new SQLite(file, { readonly: true });
  try {
    const tables = db
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'twofold_migrations%'")
      .all() as { name: string }[];
    return tables.flatMap(({ name }) => (db.prepare(`select name from pragma_table_info(?)`).all(name) as { name: string }[]).map((c) => `${name}.${c.name}`)).sort();
  } finally {
    db.close();
  }
}

async function postgresColumns(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ t: string; c: string }>(
      "select table_name as t, column_name as c from information_schema.columns where table_schema = 'public' and table_name not like 'twofold_migrations%'",
    );
    return r.rows.map((row) => `${row.t}.${row.c}`).sort();
  } finally {
    await c.end();
  }
}

// The three groups are independent (each has its own directory): run them side by side.
describe('twofold CLI', { concurrency: true }, () => {
  describe('twofold --help and unknown commands', { concurrency: 1 }, () => {
    const dir = tempDir();
    after(() => dir.remove());

    test('--help lists the commands and exits 0', async () => {
      for (const args of [['--help'], []]) {
        const r = await runCli(args, { cwd: dir.path });
        assert.equal(r.code, 0, r.stderr);
        for (const word of ['serve', 'migrate', 'users create --email', 'users list']) assert.ok(r.stdout.includes(word), `${word} missing from help`);
      }
      assert.equal(existsSync(join(dir.path, 'data')), false, '--help touches nothing');
    });

    test('an unknown command exits non-zero and points at --help', async () => {
      const r = await runCli(['frobnicate'], { cwd: dir.path });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown command "frobnicate".*--help/);
      assert.ok(!existsSync(join(dir.path, 'data')), 'an unknown command creates no data/ or secret key');
    });
  });

  describe('twofold migrate', { concurrency: 1 }, () => {
    let sqliteSchema: string[] = [];
    const dir = tempDir();
    after(() => dir.remove());

    test('on SQLite: creates data/twofold.db with every table, then is up to date', async () => {
      const first = await runCli(['migrate'], { cwd: dir.path });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /applied: 001_initial/);
      const file = join(dir.path, 'data', 'twofold.db');
      assert.ok(existsSync(file));
      sqliteSchema = sqliteColumns(file);
      const tables = new Set(sqliteSchema.map((c) => c.split('.')[0]));
      for (const t of ['users', 'sessions', 'security_events', 'totp_credentials', 'recovery_codes', 'trusted_devices', 'security_keys', 'second_factor_attempts', 'challenges']) {
        assert.ok(tables.has(t), `table ${t} is missing`);
      }
      assert.ok(sqliteSchema.includes('sessions.id') && !sqliteSchema.includes('sessions.token'), 'sessions keep a hash as id, no token column');
      const db = new SQLite(file, { readonly: true });
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.close();

      const again = await runCli(['migrate'], { cwd: dir.path });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /up to date/);
    });

    test('DATABASE_URL=sqlite:<path> is honoured', async () => {
      const r = await runCli(['migrate'], { cwd: dir.path, env: { DATABASE_URL: 'sqlite:./elsewhere/other.db' } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(join(dir.path, 'elsewhere', 'other.db')));
    });

    describe('on PostgreSQL', { skip: pgSkip }, () => {
      let database: Awaited<ReturnType<typeof createEmptyPostgres>>;
      before(async () => {
        database = await createEmptyPostgres('twofold_cli_');
      });
      after(async () => {
        await database?.drop();
      });

      test('a fresh database gets the same tables and columns as SQLite', async () => {
        assert.ok(PG_URL);
        const env = { DATABASE_URL: database.url, TWOFOLD_SECRET: randomBytes(32).toString('base64') };
        const r = await runCli(['migrate'], { cwd: dir.path, env });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /applied: 001_initial/);
        assert.ok(sqliteSchema.length > 0, 'the SQLite test ran first');
        assert.deepEqual(await postgresColumns(database.url), sqliteSchema);
        const again = await runCli(['migrate'], { cwd: dir.path, env });
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /up to date/);
      });
    });
  });

  describe('twofold users', { concurrency: 1 }, () => {
    const dir = tempDir();
    after(() => dir.remove());

    test('users create reads the password from stdin; users list shows the account', async () => {
      const r = await runCli(['users', 'create', '--email', ' Operator@Example.com '], { cwd: dir.path, input: `${PASSWORD}\n` });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /created Operator@Example\.com/);
      assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD), 'the password is not echoed');

      const list = await runCli(['users', 'list'], { cwd: dir.path });
      assert.equal(list.code, 0, list.stderr);
      const lines = list.stdout.trim().split('\n');
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /\tOperator@Example\.com\t\d{4}-\d{2}-\d{2}T[^\t]+\t2fa:off$/);
      assert.ok(!list.stdout.includes('argon2'), 'no password hash in the list');
    });

    test('the same email again is refused', async () => {
      const r = await runCli(['users', 'create', '--email', 'operator@example.com'], { cwd: dir.path, input: 'another good passphrase\n' });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /already exists/);
    });

    test('a common password is refused with a clear message and no account', async () => {
      const r = await runCli(['users', 'create', '--email', 'weak@example.com'], { cwd: dir.path, input: 'Password\n' });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /common/i);
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'a message, not a stack trace');
      const list = await runCli(['users', 'list'], { cwd: dir.path });
      assert.doesNotMatch(list.stdout, /weak@example\.com/);
    });

    test('users create without --email or with a bad email', async () => {
      const none = await runCli(['users', 'create'], { cwd: dir.path, input: `${PASSWORD}\n` });
      assert.notEqual(none.code, 0);
      assert.match(none.stderr, /--email/);
      const bad = await runCli(['users', 'create', '--email', 'not-an-email'], { cwd: dir.path, input: `${PASSWORD}\n` });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /valid email/);
    });

    test('an account made by the CLI can log in', async () => {
      // Same process, same database: the API sees what the CLI wrote.
      const { loadConfig } = await import('../../src/config.js');
      const { openStore } = await import('../../src/store/db.js');
      const { buildContext } = await import('../../src/service/build-context.js');
      const { login } = await import('../../src/service/accounts.js');
      const config = loadConfig({}, dir.path);
      const store = openStore(`sqlite:${join(dir.path, 'data', 'twofold.db')}`);
      try {
        const ctx = await buildContext(config, store);
        const r = await login(ctx, { email: 'OPERATOR@example.com', password: PASSWORD }, { ip: null, userAgent: null }, {});
        assert.equal(r.status, 'ok');
      } finally {
        await store.close();
      }
    });
  });
});
