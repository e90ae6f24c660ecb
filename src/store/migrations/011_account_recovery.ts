import type { Kysely } from 'kysely';

/** SPEC §12: delayed self-service recoveries and the single-use links of their mails. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_recoveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('confirm_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('scheduled_at', 'bigint')
    .addColumn('due_at', 'bigint')
    .addColumn('reminder_sent_at', 'bigint')
    .addColumn('end_notice_sent_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .addColumn('cancel_reason', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('account_recoveries_user').on('account_recoveries').columns(['user_id', 'requested_at']).execute();
  // Housekeeping looks for waits whose notices are due without reading finished recoveries.
  await db.schema.createIndex('account_recoveries_state_due').on('account_recoveries').columns(['state', 'due_at']).execute();

  await db.schema
    .createTable('account_recovery_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('recovery_id', 'text', (c) => c.notNull().references('account_recoveries.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('account_recovery_tokens_recovery').on('account_recovery_tokens').column('recovery_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_recovery_tokens').execute();
  await db.schema.dropTable('account_recoveries').execute();
}
