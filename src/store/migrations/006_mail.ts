import type { Kysely } from 'kysely';

/**
 * Email (SPEC §7): the outbox every message goes through, the single-use link tokens (stored as
 * SHA-256), and two facts about an account: when its address was verified, and whether "This wasn't
 * me" asked for a password reset before the next login.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('email_verified_at', 'bigint').execute();
  await db.schema.alterTable('users').addColumn('password_reset_required_at', 'bigint').execute();

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // No foreign key: a notice outlives nothing it refers to, and a deleted account's last notice still goes.
    .addColumn('user_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    // Subject and bodies sealed with TWOFOLD_SECRET: the bodies carry link tokens until sent.
    .addColumn('content_enc', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('sent_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['state', 'next_attempt_at']).execute();

  await db.schema
    .createTable('email_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    // The address a verification link confirms (the new one for a change of email).
    .addColumn('email', 'text')
    // For "This wasn't me": the security event the notice told of, and what it added (JSON).
    .addColumn('event_id', 'text')
    .addColumn('detail', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    // A WebAuthn challenge for a password reset with a security key (no session exists there).
    .addColumn('challenge', 'text')
    .addColumn('challenge_expires_at', 'bigint')
    .execute();
  await db.schema.createIndex('email_tokens_user_purpose').on('email_tokens').columns(['user_id', 'purpose', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('email_tokens').ifExists().execute();
  await db.schema.dropTable('mail_outbox').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('password_reset_required_at').execute();
  await db.schema.alterTable('users').dropColumn('email_verified_at').execute();
}
