import type { Kysely } from 'kysely';
import type { Session } from '../core/session.js';
import type { Database } from './schema.js';
import { SESSION_COLUMNS, toSession } from './sessions.js';

/** The signed-in (not pending) sessions of one account, newest first, for the sessions page. */
export async function listUserSessions(db: Kysely<Database>, userId: string): Promise<Session[]> {
  const rows = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(SESSION_COLUMNS)
    .where('sessions.user_id', '=', userId)
    .where('sessions.pending', '=', 0)
    // Sessions of an older credential generation are already dead (see credential-generation.ts).
    .whereRef('sessions.credential_generation', '=', 'users.credential_generation')
    .orderBy('sessions.last_seen_at', 'desc')
    .orderBy('sessions.id')
    .execute();
  return rows.map(toSession);
}

/** Deletes one session only when it belongs to `userId`: another account's session id does nothing. */
export async function deleteSessionOf(db: Kysely<Database>, userId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('sessions').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Every session of the account but `keepId`, pending logins included. */
export async function deleteOtherSessions(db: Kysely<Database>, userId: string, keepId: string): Promise<number> {
  const r = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', keepId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** When each account last signed in: its newest `login` security event. */
export async function lastLoginTimes(db: Kysely<Database>, userIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (userIds.length === 0) return out;
  const rows = await db
    .selectFrom('security_events')
    .select(['user_id', (eb) => eb.fn.max<number>('at').as('at')])
    .where('user_id', 'in', userIds)
    .where('type', '=', 'login')
    .groupBy('user_id')
    .execute();
  for (const r of rows) out.set(r.user_id, Number(r.at));
  return out;
}
