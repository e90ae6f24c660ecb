import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

export interface EndedEverySession {
  /** The account's generation from now on. */
  generation: number;
  /** Rows deleted for tidiness (they were dead from the moment the generation moved). */
  sessions: number;
  devices: number;
}

/**
 * Ends every session and trusted device of an account with one write: the account's credential
 * generation goes up, and the session and device lookups only find rows stamped with the current
 * one. A login that read the old generation (with the old password hash) and inserts its session
 * after this commits inserts a dead session; no racing login outlives it.
 *
 * In the same transaction: `before` (for example the new password hash, so that no reader sees the
 * new hash with the old generation), `keep` is re-stamped with the new generation (the session
 * that made the change stays), and the now dead rows are deleted.
 */
export async function endEverySession(
  db: Kysely<Database>,
  userId: string,
  opts: { keep?: string | undefined; before?: ((tx: Transaction<Database>) => Promise<void>) | undefined } = {},
): Promise<EndedEverySession> {
  // Inside a caller's transaction (a flow that also writes its mail to the outbox) it joins that one.
  const run = <T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> =>
    db.isTransaction ? fn(db as Transaction<Database>) : db.transaction().execute(fn);
  return run(async (tx) => {
    if (opts.before) await opts.before(tx);
    const bumped = await tx
      .updateTable('users')
      .set({ credential_generation: sql`credential_generation + 1` })
      .where('id', '=', userId)
      .returning('credential_generation')
      .executeTakeFirst();
    if (!bumped) return { generation: 0, sessions: 0, devices: 0 };
    const generation = Number(bumped.credential_generation);
    if (opts.keep) {
      await tx.updateTable('sessions').set({ credential_generation: generation }).where('id', '=', opts.keep).where('user_id', '=', userId).execute();
    }
    const sessions = await tx.deleteFrom('sessions').where('user_id', '=', userId).where('credential_generation', '<', generation).executeTakeFirst();
    const devices = await tx.deleteFrom('trusted_devices').where('user_id', '=', userId).where('credential_generation', '<', generation).executeTakeFirst();
    return { generation, sessions: Number(sessions.numDeletedRows), devices: Number(devices.numDeletedRows) };
  });
}

/**
 * The account's current generation, for a login whose credential is not the user row itself (a
 * passkey): read it before the write that confirms the credential still exists, so a session that
 * ends up granted after every session was ended carries the old generation.
 */
export async function credentialGenerationOf(db: Kysely<Database>, userId: string): Promise<number> {
  const r = await db.selectFrom('users').select('credential_generation').where('id', '=', userId).executeTakeFirst();
  return r ? Number(r.credential_generation) : -1;
}
