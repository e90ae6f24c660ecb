import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the tests create their databases on, when there is one. */
export const PG_URL = process.env.TWOFOLD_TEST_DATABASE_URL;

/** Runs one statement as the administrator of PG_URL, on a connection of its own. */
async function adminQuery(statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(statement);
  await admin.end();
}

/**
 * A fresh, empty PostgreSQL database (not migrated) named `<prefix><12 hex digits>`; drop() removes
 * it, even while connections to it are open.
 */
export async function createEmptyPostgres(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!PG_URL) throw new Error('TWOFOLD_TEST_DATABASE_URL is not set');
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
