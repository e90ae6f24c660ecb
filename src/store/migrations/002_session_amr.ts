import type { Kysely } from 'kysely';

/** What each session's login proved (RFC 8176 values, space-separated); old sessions proved a password. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('amr', 'text', (c) => c.notNull().defaultTo('pwd')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('amr').execute();
}
