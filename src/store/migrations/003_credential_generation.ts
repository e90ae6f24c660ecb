import type { Kysely } from 'kysely';

/**
 * A credential generation per account, stamped on every session and trusted device when it is made.
 * The session lookup only finds a session whose stamp equals the account's current generation, so
 * "end every session" is one write (the account's generation goes up) that a login racing with it
 * cannot outlive: that login stamped what it read with the password, the old generation.
 * Existing rows all start at 0, so every live session and device stays valid across the upgrade.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['users', 'sessions', 'trusted_devices']) {
    await db.schema
      .alterTable(table)
      .addColumn('credential_generation', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['trusted_devices', 'sessions', 'users']) {
    await db.schema.alterTable(table).dropColumn('credential_generation').execute();
  }
}
