import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { STRICT } from './tools.js';

export type DbKind = 'sqlite' | 'postgres';

const PG_URL = process.env.TWOFOLD_TEST_DATABASE_URL;

/**
 * The databases the API suite runs on: SQLite always; PostgreSQL when TWOFOLD_TEST_DATABASE_URL
 * points at a server (CI sets it). Without it the PostgreSQL runs skip, naming what is missing.
 */
export function databaseKinds(): { kind: DbKind; skip: string | false }[] {
  const pgMissing = 'PostgreSQL tests need TWOFOLD_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) and a running PostgreSQL server (Debian package postgresql)';
  if (!PG_URL && STRICT) throw new Error(`${pgMissing}; required under TWOFOLD_TEST_STRICT=1`);
  return [
    { kind: 'sqlite', skip: false },
    { kind: 'postgres', skip: PG_URL ? false : pgMissing },
  ];
}

export interface TestDatabase {
  url: string;
  store: Store;
  drop(): Promise<void>;
}

/** A fresh, migrated database that drop() removes completely. */
export async function createTestDatabase(kind: DbKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'twofold-test-'));
    const url = `sqlite:${join(dir, 'test.db')}`;
    const store = openStore(url);
    await migrateToLatest(store);
    return {
      url,
      store,
      async drop() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!PG_URL) throw new Error('TWOFOLD_TEST_DATABASE_URL is not set');
  const name = `twofold_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const store = openStore(url);
  await migrateToLatest(store);
  return {
    url,
    store,
    async drop() {
      await store.close();
      const a = new pg.Client({ connectionString: PG_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
