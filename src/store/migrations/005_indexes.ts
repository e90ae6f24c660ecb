import { sql, type Kysely } from 'kysely';

/**
 * Index coverage for lookups that must stay flat from a thousand to a million accounts: counting an
 * account's unused recovery codes (the session check's two-factor status) reads a partial index of
 * just those rows, never the codes themselves.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('recovery_codes_unused').on('recovery_codes').columns(['user_id', 'used_at']).where(sql.ref('used_at'), 'is', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('recovery_codes_unused').ifExists().execute();
}
