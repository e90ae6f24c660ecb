import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Store } from './db.js';
import * as m001 from './migrations/001_initial.js';
import * as m002 from './migrations/002_session_amr.js';
import * as m003 from './migrations/003_credential_generation.js';
import * as m004 from './migrations/004_password_throttle.js';
import * as m005 from './migrations/005_indexes.js';
import * as m006 from './migrations/006_mail.js';
import * as m007 from './migrations/007_groups.js';
import * as m008 from './migrations/008_passkeys.js';
import * as m009 from './migrations/009_oidc.js';
import * as m010 from './migrations/010_admin.js';
import * as m011 from './migrations/011_account_recovery.js';

/** Migrations are listed here, not read from disk, so they ship inside the code that needs them. */
const migrations: Record<string, Migration> = {
  '001_initial': m001,
  '002_session_amr': m002,
  '003_credential_generation': m003,
  '004_password_throttle': m004,
  '005_indexes': m005,
  '006_mail': m006,
  '007_groups': m007,
  '008_passkeys': m008,
  '009_oidc': m009,
  '010_admin': m010,
  '011_account_recovery': m011,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Applies every pending migration in order; safe to run on every start and from several nodes. */
export async function migrateToLatest(store: Store): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider, migrationTableName: 'twofold_migrations', migrationLockTableName: 'twofold_migrations_lock',
    // Features land in any order with numbers given up front: a database that already has a later
    // number still gets an earlier one that landed after it.
    allowUnorderedMigrations: true,
    // Names are ASCII ("012_…"): a plain comparison orders them, where Kysely's default
    // (localeCompare) loads ICU collation data, megabytes of memory for the life of the process.
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0) });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new MigrationError(`migration ${failed?.migrationName ?? '?'} failed: ${(result.error as Error).message ?? String(result.error)}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export function latestMigration(): string {
  return Object.keys(migrations).sort().at(-1)!;
}
