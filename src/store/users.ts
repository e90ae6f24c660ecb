import type { Kysely } from 'kysely';
import { isUniqueViolation } from './errors.js';
import type { Database } from './schema.js';

export interface User {
  id: string;
  email: string;
  emailNormalized: string;
  passwordHash: string;
  createdAt: number;
  passwordChangedAt: number;
  /** Migration 006: when a link proved the address; null while unverified. */
  emailVerifiedAt?: number | null;
  /** Migration 006: "This wasn't me" was used; the next login must reset the password. */
  passwordResetRequiredAt?: number | null;
}

type Row = Database['users'];

function toUser(r: Row): User {
  return {
    id: r.id,
    email: r.email,
    emailNormalized: r.email_normalized,
    passwordHash: r.password_hash,
    createdAt: r.created_at,
    passwordChangedAt: r.password_changed_at,
    emailVerifiedAt: r.email_verified_at,
    passwordResetRequiredAt: r.password_reset_required_at,
  };
}

export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
}

/** Relies on the unique index, not a prior lookup, so two simultaneous signups cannot both win. */
export async function insertUser(db: Kysely<Database>, user: User): Promise<void> {
  try {
    await db
      .insertInto('users')
      .values({
        id: user.id,
        email: user.email,
        email_normalized: user.emailNormalized,
        password_hash: user.passwordHash,
        created_at: user.createdAt,
        password_changed_at: user.passwordChangedAt,
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new EmailTakenError('email taken');
    throw err;
  }
}

export async function findUserByEmail(db: Kysely<Database>, emailNormalized: string): Promise<User | null> {
  const row = await db.selectFrom('users').selectAll().where('email_normalized', '=', emailNormalized).executeTakeFirst();
  return row ? toUser(row) : null;
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<User | null> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toUser(row) : null;
}

export async function listUsers(db: Kysely<Database>): Promise<User[]> {
  const rows = await db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toUser);
}


export async function updatePasswordHash(db: Kysely<Database>, userId: string, passwordHash: string, now: number): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, password_changed_at: now }).where('id', '=', userId).execute();
}

export async function markEmailVerified(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  await db.updateTable('users').set({ email_verified_at: now }).where('id', '=', userId).where('email_verified_at', 'is', null).execute();
}

/** A confirmed change of address (relies on the unique index, like signup). */
export async function changeUserEmail(db: Kysely<Database>, userId: string, email: { display: string; normalized: string }, now: number): Promise<void> {
  try {
    await db.updateTable('users').set({ email: email.display, email_normalized: email.normalized, email_verified_at: now }).where('id', '=', userId).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new EmailTakenError('email taken');
    throw err;
  }
}

export async function setPasswordResetRequired(db: Kysely<Database>, userId: string, at: number | null): Promise<void> {
  await db.updateTable('users').set({ password_reset_required_at: at }).where('id', '=', userId).execute();
}

export async function isEmailVerified(db: Kysely<Database>, userId: string): Promise<boolean> {
  const r = await db.selectFrom('users').select('email_verified_at').where('id', '=', userId).executeTakeFirst();
  return r?.email_verified_at != null;
}
