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
  /** Read with the hash: a session granted on this password is stamped with it (store/credential-generation.ts). */
  credentialGeneration: number;
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
    credentialGeneration: r.credential_generation,
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
        credential_generation: user.credentialGeneration,
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
