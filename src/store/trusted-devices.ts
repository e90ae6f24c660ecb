import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface TrustedDevice {
  id: string;
  userId: string;
  tokenHash: string;
  label: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  /** The account's credential generation at the login that trusted it. */
  credentialGeneration: number;
}

type Row = Database['trusted_devices'];

const toDevice = (r: Row): TrustedDevice => ({
  id: r.id,
  userId: r.user_id,
  tokenHash: r.token_hash,
  label: r.label,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  credentialGeneration: r.credential_generation,
});

export async function insertTrustedDevice(db: Kysely<Database>, d: TrustedDevice): Promise<void> {
  await db
    .insertInto('trusted_devices')
    .values({
      id: d.id,
      user_id: d.userId,
      token_hash: d.tokenHash,
      label: d.label,
      created_at: d.createdAt,
      expires_at: d.expiresAt,
      last_used_at: d.lastUsedAt,
      credential_generation: d.credentialGeneration,
    })
    .execute();
}

/**
 * A device token is only good for the account it was issued to, until it expires, and while the
 * account's credential generation is the one it was trusted under (password change, disable and
 * admin reset move it on).
 */
export async function findUsableTrustedDevice(db: Kysely<Database>, tokenHash: string, userId: string, now: number): Promise<TrustedDevice | null> {
  const r = await db
    .selectFrom('trusted_devices')
    .innerJoin('users', 'users.id', 'trusted_devices.user_id')
    .selectAll('trusted_devices')
    .where('trusted_devices.token_hash', '=', tokenHash)
    .where('trusted_devices.user_id', '=', userId)
    .where('trusted_devices.expires_at', '>', now)
    .whereRef('trusted_devices.credential_generation', '=', 'users.credential_generation')
    .executeTakeFirst();
  return r ? toDevice(r) : null;
}

export async function touchTrustedDevice(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable('trusted_devices').set({ last_used_at: now }).where('id', '=', id).execute();
}

export async function listTrustedDevices(db: Kysely<Database>, userId: string, now: number): Promise<TrustedDevice[]> {
  const rows = await db
    .selectFrom('trusted_devices')
    .innerJoin('users', 'users.id', 'trusted_devices.user_id')
    .selectAll('trusted_devices')
    .where('trusted_devices.user_id', '=', userId)
    .where('trusted_devices.expires_at', '>', now)
    .whereRef('trusted_devices.credential_generation', '=', 'users.credential_generation')
    .orderBy('trusted_devices.created_at', 'desc')
    .execute();
  return rows.map(toDevice);
}

export async function deleteTrustedDevice(db: Kysely<Database>, userId: string, id: string): Promise<TrustedDevice | null> {
  const r = await db.deleteFrom('trusted_devices').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst();
  return r ? toDevice(r) : null;
}

export async function deleteUserTrustedDevices(db: Kysely<Database>, userId: string): Promise<number> {
  const r = await db.deleteFrom('trusted_devices').where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
