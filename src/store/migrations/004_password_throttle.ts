import type { Kysely } from 'kysely';

/**
 * Consecutive wrong passwords, per submitted address (a keyed hash of it, whether or not an account
 * has it) and per recognised browser. Not tied to users: an unknown address is counted the same way.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('password_attempts')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('password_attempts_last_failure_at').on('password_attempts').column('last_failure_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('password_attempts').ifExists().execute();
}
