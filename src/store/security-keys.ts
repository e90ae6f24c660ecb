import { sql, type Kysely, type Selectable } from 'kysely';
import { isCredentialKind, type CredentialKind } from '../core/passkey.js';
import { isUniqueViolation } from './errors.js';
import type { Database } from './schema.js';

export async function deleteUserSecurityKeys(db: Kysely<Database>, userId: string): Promise<number> {
  const r = await db.deleteFrom('security_keys').where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export interface SecurityKey {
  id: string;
  userId: string;
  /** base64url credential id. */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  kind: CredentialKind;
  /** The authenticator model, when it reported one. */
  aaguid: string | null;
}

type KeyRow = Selectable<Database['security_keys']>;

function parseTransports(text: string | null): string[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

const toKey = (r: KeyRow): SecurityKey => ({
  id: r.id,
  userId: r.user_id,
  credentialId: r.credential_id,
  publicKey: r.public_key,
  counter: Number(r.counter),
  transports: parseTransports(r.transports),
  name: r.name,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  kind: isCredentialKind(r.kind) ? r.kind : 'security_key',
  aaguid: r.aaguid,
});

/** The two unique rules a new key can break. */
export class SecurityKeyConflictError extends Error {
  override name = 'SecurityKeyConflictError';
  constructor(readonly conflict: 'name_taken' | 'credential_taken') {
    super(conflict);
  }
}

function uniqueViolation(err: unknown): 'name_taken' | 'credential_taken' | null {
  if (!isUniqueViolation(err)) return null;
  const e = err as { message?: string; constraint?: string };
  const text = `${e.constraint ?? ''} ${e.message ?? ''}`;
  // PostgreSQL names the constraint; SQLite lists the columns ("security_keys.user_id, security_keys.name").
  if (/security_keys_user_name|security_keys\.name/.test(text)) return 'name_taken';
  return 'credential_taken';
}

/**
 * Relies on the unique indexes, not a prior lookup: a credential id belongs to one account only,
 * and a name is used once per account, however many requests race.
 */
export async function insertSecurityKey(db: Kysely<Database>, k: SecurityKey): Promise<void> {
  try {
    await db
      .insertInto('security_keys')
      .values({
        id: k.id,
        user_id: k.userId,
        credential_id: k.credentialId,
        public_key: k.publicKey,
        counter: k.counter,
        transports: k.transports.length ? JSON.stringify(k.transports) : null,
        name: k.name,
        created_at: k.createdAt,
        last_used_at: k.lastUsedAt,
        kind: k.kind,
        aaguid: k.aaguid,
      })
      .execute();
  } catch (err) {
    const conflict = uniqueViolation(err);
    if (conflict) throw new SecurityKeyConflictError(conflict);
    throw err;
  }
}

export async function listSecurityKeys(db: Kysely<Database>, userId: string): Promise<SecurityKey[]> {
  const rows = await db.selectFrom('security_keys').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toKey);
}

/** Names differ only in case are the same name to a person ("Blue key" and "blue key"). */
export async function securityKeyNameTaken(db: Kysely<Database>, userId: string, name: string, exceptId?: string): Promise<boolean> {
  let q = db
    .selectFrom('security_keys')
    .select('id')
    .where('user_id', '=', userId)
    .where(sql`lower(name)`, '=', sql`lower(${name})`);
  // A rename may change only the case of the key's own name.
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  const r = await q.executeTakeFirst();
  return r !== undefined;
}

export async function findSecurityKeyByCredentialId(db: Kysely<Database>, credentialId: string): Promise<SecurityKey | null> {
  const r = await db.selectFrom('security_keys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
  return r ? toKey(r) : null;
}

/**
 * Records a use: the new counter and the time, only if the stored counter is still the one the
 * check read. Returns false when another request moved it in between.
 */
export async function recordSecurityKeyUse(db: Kysely<Database>, id: string, expectedCounter: number, newCounter: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('security_keys')
    .set({ counter: newCounter, last_used_at: now })
    .where('id', '=', id)
    .where('counter', '=', expectedCounter)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function findSecurityKey(db: Kysely<Database>, userId: string, id: string): Promise<SecurityKey | null> {
  const r = await db.selectFrom('security_keys').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return r ? toKey(r) : null;
}

/** Only the account's own key: another account's id is simply not found. */
export async function deleteSecurityKey(db: Kysely<Database>, userId: string, id: string): Promise<SecurityKey | null> {
  const r = await db.deleteFrom('security_keys').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst();
  return r ? toKey(r) : null;
}

/**
 * Renames the account's own key; the unique index decides a race between two renames. Returns the
 * key as it was before, or null when the account has no such key.
 */
export async function renameSecurityKey(db: Kysely<Database>, userId: string, id: string, name: string): Promise<SecurityKey | null> {
  const before = await findSecurityKey(db, userId, id);
  if (!before) return null;
  try {
    const r = await db.updateTable('security_keys').set({ name }).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1 ? before : null;
  } catch (err) {
    if (uniqueViolation(err) === 'name_taken') throw new SecurityKeyConflictError('name_taken');
    throw err;
  }
}
