import type { Kysely } from 'kysely';

/**
 * Passkeys (SPEC §10). A passkey is a discoverable credential with user verification, kept in the
 * security-key table with its kind, so that both stay one list and one kind of second factor.
 * Passwordless sign-in starts without a session: its challenges are bound to a browser by a
 * short-lived cookie (stored as a hash) instead of a session row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('security_keys').addColumn('kind', 'text', (c) => c.notNull().defaultTo('security_key')).execute();
  // The authenticator model (AAGUID) reported at registration; null when it was all zeros.
  await db.schema.alterTable('security_keys').addColumn('aaguid', 'text').execute();
  await db.schema
    .createTable('passkey_challenges')
    // The challenge itself (base64url of 32 random bytes): the browser's answer names it.
    .addColumn('challenge', 'text', (c) => c.primaryKey())
    // SHA-256 of the ceremony cookie: only the browser that asked may answer.
    .addColumn('binding', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('passkey_challenges_expires').on('passkey_challenges').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('passkey_challenges').ifExists().execute();
  await db.schema.alterTable('security_keys').dropColumn('aaguid').execute();
  await db.schema.alterTable('security_keys').dropColumn('kind').execute();
}
