import type { Kysely } from 'kysely';
import { parseAmr, serializeAmr, type AmrValue } from '../core/amr.js';
import type { Session } from '../core/session.js';
import type { Database } from './schema.js';

export interface SessionWithUser {
  session: Session;
  email: string;
  /** The account's groups, sorted; only when asked for (the forward-auth decision). */
  groups?: string[];
}

export async function insertSession(db: Kysely<Database>, s: Session): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id: s.id,
      user_id: s.userId,
      created_at: s.createdAt,
      last_seen_at: s.lastSeenAt,
      pending: s.pending ? 1 : 0,
      authenticated_at: s.authenticatedAt,
      ip: s.ip,
      user_agent: s.userAgent,
      amr: serializeAmr(s.amr),
    })
    .execute();
}

/**
 * The hot path: one primary-key lookup joined to the user's email. With `groups`, the same query
 * also left-joins the account's group rows (by the user_groups primary key), one row per group, so
 * a forward-auth decision stays one query and sees group changes at the next request.
 */
export async function findSession(db: Kysely<Database>, id: string, opts: { groups?: boolean } = {}): Promise<SessionWithUser | null> {
  const rows = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id',
      'sessions.user_id',
      'sessions.created_at',
      'sessions.last_seen_at',
      'sessions.pending',
      'sessions.authenticated_at',
      'sessions.ip',
      'sessions.user_agent',
      'sessions.amr',
      'users.email',
    ])
    .where('sessions.id', '=', id)
    .$if(opts.groups === true, (q) => q.leftJoin('user_groups', 'user_groups.user_id', 'sessions.user_id').select('user_groups.name as group_name'))
    .execute();
  const r = rows[0];
  if (!r) return null;
  return {
    email: r.email,
    ...(opts.groups ? { groups: rows.flatMap((row) => (row.group_name ? [row.group_name] : [])).sort() } : {}),
    session: {
      id: r.id,
      userId: r.user_id,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      pending: r.pending === 1,
      authenticatedAt: r.authenticated_at,
      ip: r.ip,
      userAgent: r.user_agent,
      amr: parseAmr(r.amr),
    },
  };
}

export async function touchSession(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

/** A full authentication inside a live session (re-authentication): fresh now, with what it proved. */
export async function markSessionAuthenticated(db: Kysely<Database>, id: string, now: number, amr: readonly AmrValue[]): Promise<void> {
  await db.updateTable('sessions').set({ authenticated_at: now, last_seen_at: now, amr: serializeAmr(amr) }).where('id', '=', id).execute();
}

/** A factor set up in this session counts for `two_factor` rules, but adds no freshness. */
export async function setSessionAmr(db: Kysely<Database>, id: string, amr: readonly AmrValue[]): Promise<void> {
  await db.updateTable('sessions').set({ amr: serializeAmr(amr) }).where('id', '=', id).execute();
}

/** Returns whether a row was deleted, so a consumer of a pending login knows it won the race. */
export async function deleteSession(db: Kysely<Database>, id: string): Promise<boolean> {
  const r = await db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function deleteUserSessions(db: Kysely<Database>, userId: string, exceptId?: string): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptId) q = q.where('id', '!=', exceptId);
  await q.execute();
}

/** Housekeeping: rows past any possible lifetime. */
export async function deleteSessionsOlderThan(db: Kysely<Database>, createdBefore: number, idleBefore: number): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('created_at', '<', createdBefore), eb('last_seen_at', '<', idleBefore)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
