import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

export interface AccountFlags {
  lockedAt: number | null;
  twoFactorRequiredSince: number | null;
}

export async function accountFlags(db: Kysely<Database>, userId: string): Promise<AccountFlags | null> {
  const r = await db.selectFrom('users').select(['locked_at', 'two_factor_required_since']).where('id', '=', userId).executeTakeFirst();
  return r ? { lockedAt: r.locked_at, twoFactorRequiredSince: r.two_factor_required_since } : null;
}

/** Records the first moment a required-2FA rule applied; a later call keeps the first moment. */
export async function markTwoFactorRequired(db: Kysely<Database>, userId: string, now: number): Promise<number> {
  await db.updateTable('users').set({ two_factor_required_since: now }).where('id', '=', userId).where('two_factor_required_since', 'is', null).execute();
  const r = await db.selectFrom('users').select('two_factor_required_since').where('id', '=', userId).executeTakeFirst();
  return r?.two_factor_required_since ?? now;
}

/** Returns whether the lock state changed (locking a locked account changes nothing). */
export async function setLocked(db: Kysely<Database> | Transaction<Database>, userId: string, lockedAt: number | null): Promise<boolean> {
  const q = db.updateTable('users').set({ locked_at: lockedAt }).where('id', '=', userId);
  const r = await (lockedAt === null ? q.where('locked_at', 'is not', null) : q.where('locked_at', 'is', null)).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * The account's messages in the mail outbox, queued or sent (their rows keep the address): the
 * outbox does not reference the account, so that a notice can outlive it; deleting an account
 * removes them explicitly.
 */
export async function deleteMailOf(db: Kysely<Database> | Transaction<Database>, userId: string): Promise<void> {
  await db.deleteFrom('mail_outbox').where('user_id', '=', userId).execute();
}

/** Removes the account; every table of its data references it with ON DELETE CASCADE (but the outbox: deleteMailOf). */
export async function deleteUser(db: Kysely<Database> | Transaction<Database>, userId: string): Promise<boolean> {
  const r = await db.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export interface UserRow {
  id: string;
  email: string;
  emailNormalized: string;
  createdAt: number;
  lockedAt: number | null;
}

/**
 * Accounts whose normalised email contains `q` (matched literally), newest first. `before` is the id
 * of the last account of the previous page; the next page starts after it (ties on time by id).
 */
export async function searchUsers(db: Kysely<Database>, opts: { q: string; limit: number; before?: string | undefined }): Promise<UserRow[]> {
  let query = db.selectFrom('users').select(['id', 'email', 'email_normalized', 'created_at', 'locked_at']);
  const q = opts.q.trim().toLowerCase();
  // ESCAPE spelled out: SQLite has no default escape character for LIKE.
  if (q) query = query.where(sql<boolean>`email_normalized like ${'%' + q.replace(/[\\%_]/g, (c) => '\\' + c) + '%'} escape '\\'`);
  if (opts.before !== undefined) {
    const cursor = await db.selectFrom('users').select(['created_at', 'id']).where('id', '=', opts.before).executeTakeFirst();
    if (!cursor) return [];
    query = query.where((eb) => eb.or([eb('created_at', '<', cursor.created_at), eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)])]));
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
  return rows.map((r) => ({ id: r.id, email: r.email, emailNormalized: r.email_normalized, createdAt: r.created_at, lockedAt: r.locked_at }));
}

export async function findUserRow(db: Kysely<Database>, userId: string): Promise<UserRow | null> {
  const r = await db.selectFrom('users').select(['id', 'email', 'email_normalized', 'created_at', 'locked_at']).where('id', '=', userId).executeTakeFirst();
  return r ? { id: r.id, email: r.email, emailNormalized: r.email_normalized, createdAt: r.created_at, lockedAt: r.locked_at } : null;
}
