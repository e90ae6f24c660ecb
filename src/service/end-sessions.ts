import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Context } from './context.js';

/**
 * Ends every session and trusted device of an account (lock, admin sign-out, admin reset, delete).
 * `before` runs in the same transaction, so that e.g. the lock and the end of the sessions are one
 * change; `keep` names a session that survives.
 */
export async function endEverySessionOf(
  ctx: Context,
  userId: string,
  opts: { keep?: string | undefined; before?: ((tx: Transaction<Database>) => Promise<void>) | undefined } = {},
): Promise<void> {
  await ctx.db.transaction().execute(async (tx) => {
    if (opts.before) await opts.before(tx);
    let sessions = tx.deleteFrom('sessions').where('user_id', '=', userId);
    if (opts.keep) sessions = sessions.where('id', '!=', opts.keep);
    await sessions.execute();
    await tx.deleteFrom('trusted_devices').where('user_id', '=', userId).execute();
  });
}
