import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store, type StoreOptions } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createEmptyPostgres, PG_URL } from './postgres.js';
import { STRICT } from './tools.js';

export type DbKind = 'sqlite' | 'postgres';

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

/** A fresh, migrated database that drop() removes completely. `opts.log` sees every statement it runs. */
export async function createTestDatabase(kind: DbKind, opts: StoreOptions = {}): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'twofold-test-'));
    return migrated(`sqlite:${join(dir, 'test.db')}`, () => rmSync(dir, { recursive: true, force: true }), opts);
  }
  const database = await createEmptyPostgres('twofold_test_');
  return migrated(database.url, () => database.drop(), opts);
}

/** Opens and migrates the database at `url`; drop() closes it, then deletes it with `remove`. */
async function migrated(url: string, remove: () => void | Promise<void>, opts: StoreOptions): Promise<TestDatabase> {
  const store = openStore(url, opts);
  await migrateToLatest(store);
  return {
    url,
    store,
    async drop() {
      await store.close();
      await remove();
    },
  };
}
