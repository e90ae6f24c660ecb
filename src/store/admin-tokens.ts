import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface AdminToken {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

type Row = Pick<Database['admin_tokens'], 'id' | 'name' | 'created_at' | 'last_used_at' | 'revoked_at'>;
const toToken = (r: Row): AdminToken => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at });
const COLUMNS = ['id', 'name', 'created_at', 'last_used_at', 'revoked_at'] as const;

export async function insertAdminToken(db: Kysely<Database>, t: { id: string; name: string; tokenHash: string; createdAt: number }): Promise<void> {
  await db.insertInto('admin_tokens').values({ id: t.id, name: t.name, token_hash: t.tokenHash, created_at: t.createdAt, last_used_at: null, revoked_at: null }).execute();
}

/** One indexed lookup by the token's hash; a revoked token is not found. */
export async function findLiveAdminToken(db: Kysely<Database>, tokenHash: string): Promise<AdminToken | null> {
  const r = await db.selectFrom('admin_tokens').select(COLUMNS).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
  return r ? toToken(r) : null;
}

export async function listAdminTokens(db: Kysely<Database>): Promise<AdminToken[]> {
  return (await db.selectFrom('admin_tokens').select(COLUMNS).orderBy('created_at').orderBy('id').execute()).map(toToken);
}

export async function revokeAdminToken(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const r = await db.updateTable('admin_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function touchAdminToken(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable('admin_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}
