import type { Kysely } from 'kysely';
import type { SessionPolicy } from '../core/session.js';
import { deleteExpiredPayloads, deleteRetiredKeys } from './oidc.js';
import type { Database } from './schema.js';
import { deleteStalePasswordAttempts } from './password-attempts.js';

/**
 * Removes rows that can no longer be used. Correctness never depends on this (every read checks
 * expiry); it only keeps tables small. Safe to run on every node at once.
 */
export async function deleteExpiredRows(db: Kysely<Database>, now: number, policy: SessionPolicy): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([
        eb('created_at', '<', now - policy.maxMs),
        eb('last_seen_at', '<', now - policy.idleMs),
        eb.and([eb('pending', '=', 1), eb('created_at', '<', now - policy.pendingMs)]),
      ]),
    )
    .execute();
  await db.deleteFrom('challenges').where('expires_at', '<', now).execute();
  await db.deleteFrom('passkey_challenges').where('expires_at', '<', now).execute();
  await db.deleteFrom('trusted_devices').where('expires_at', '<', now).execute();
  await deleteExpiredPayloads(db, now);
  await deleteRetiredKeys(db, now);
  await deleteStalePasswordAttempts(db, now - 24 * 3_600_000);
  await db.deleteFrom('account_recovery_tokens').where('expires_at', '<', now).execute();
}
