import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';

// Tests look at tables by name, including ones later migrations add.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/** Rows in one table. */
export async function countRows(db: Kysely<Database>, table: keyof Database & string): Promise<number> {
  const r = await (db as AnyDb).selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Every row of every table (the migration bookkeeping too), in a stable order: two snapshots are
 * equal when nothing was written in between.
 */
export async function snapshotTables(db: Kysely<Database>): Promise<Record<string, string[]>> {
  const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
  const out: Record<string, string[]> = {};
  for (const t of tables) {
    const rows = await (db as AnyDb).selectFrom(t).selectAll().execute();
    out[t] = rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();
  }
  return out;
}
