import type { Kysely } from 'kysely';
import type { Database, OidcClientsTable, OidcSigningKeysTable } from './schema.js';

/**
 * Queries behind the OpenID Connect provider: its models (one table for every kind), the clients,
 * the signing keys and the remembered consents. One code path for SQLite and PostgreSQL.
 */

export interface StoredPayload {
  payload: string;
  consumedAt: number | null;
}

export interface PayloadRow {
  model: string;
  id: string;
  payload: string;
  grantId: string | null;
  userCode: string | null;
  uid: string | null;
  expiresAt: number | null;
}

export async function upsertPayload(db: Kysely<Database>, row: PayloadRow): Promise<void> {
  const values = {
    model: row.model,
    id: row.id,
    payload: row.payload,
    grant_id: row.grantId,
    user_code: row.userCode,
    uid: row.uid,
    expires_at: row.expiresAt,
    consumed_at: null,
  };
  await db
    .insertInto('oidc_payloads')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['model', 'id']).doUpdateSet({
        payload: row.payload,
        grant_id: row.grantId,
        user_code: row.userCode,
        uid: row.uid,
        expires_at: row.expiresAt,
      }),
    )
    .execute();
}

type Lookup = 'id' | 'uid' | 'user_code';

/** An unexpired row found by id, uid or user code; expired rows are never answered. */
export async function findPayload(db: Kysely<Database>, model: string, by: Lookup, value: string, now: number): Promise<StoredPayload | undefined> {
  const r = await db
    .selectFrom('oidc_payloads')
    .select(['payload', 'consumed_at'])
    .where('model', '=', model)
    .where(by, '=', value)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return r ? { payload: r.payload, consumedAt: r.consumed_at } : undefined;
}

/** Marks a row used; true only for the one caller that changed it (one conditional write). */
export async function consumePayload(db: Kysely<Database>, model: string, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('oidc_payloads')
    .set({ consumed_at: now })
    .where('model', '=', model)
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deletePayload(db: Kysely<Database>, model: string, id: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute();
}

/** Everything issued under one grant (codes, tokens, the grant itself), whatever its model. */
export async function deletePayloadsOfGrant(db: Kysely<Database>, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
}

export async function deleteExpiredPayloads(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('expires_at', '<=', now).execute();
}

// Clients

export type ClientRow = OidcClientsTable;

export async function insertClient(db: Kysely<Database>, row: ClientRow): Promise<void> {
  await db.insertInto('oidc_clients').values(row).execute();
}

export async function findClient(db: Kysely<Database>, id: string): Promise<ClientRow | undefined> {
  return db.selectFrom('oidc_clients').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listClients(db: Kysely<Database>): Promise<ClientRow[]> {
  return db.selectFrom('oidc_clients').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Removes the client with every grant and token it holds. */
export async function deleteClient(db: Kysely<Database>, id: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const r = await trx.deleteFrom('oidc_clients').where('id', '=', id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) return false;
    await trx.deleteFrom('oidc_consents').where('client_id', '=', id).execute();
    // Payloads hold the client id inside their JSON only; grants are found by it there.
    const grants = await trx.selectFrom('oidc_payloads').select(['id', 'payload']).where('model', '=', 'Grant').execute();
    const ids = grants.filter((g) => (JSON.parse(g.payload) as { clientId?: string }).clientId === id).map((g) => g.id);
    if (ids.length > 0) await trx.deleteFrom('oidc_payloads').where('grant_id', 'in', ids).execute();
    if (ids.length > 0) await trx.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', 'in', ids).execute();
    return true;
  });
}

// Signing keys

export type SigningKeyRow = OidcSigningKeysTable;

/** Inserts an active key unless another node made one for the same algorithm first. */
export async function insertActiveKey(db: Kysely<Database>, row: SigningKeyRow): Promise<void> {
  await db.insertInto('oidc_signing_keys').values(row).onConflict((oc) => oc.column('active_alg').doNothing()).execute();
}

/** The keys to publish: active ones first (they sign), then retired ones still within their window. */
export async function publishedKeys(db: Kysely<Database>, now: number): Promise<SigningKeyRow[]> {
  const rows = await db
    .selectFrom('oidc_signing_keys')
    .selectAll()
    .where((eb) => eb.or([eb('active_alg', 'is not', null), eb('publish_until', '>', now)]))
    .execute();
  return rows.sort((a, b) => Number(b.active_alg !== null) - Number(a.active_alg !== null) || b.created_at - a.created_at);
}

/** Identifies the set of keys: changes whenever a key is added or retired. */
export async function keysVersion(db: Kysely<Database>): Promise<string> {
  const rows = await db.selectFrom('oidc_signing_keys').select(['kid', 'retired_at']).orderBy('kid').execute();
  return rows.map((r) => `${r.kid}:${r.retired_at ?? ''}`).join(',');
}

/** Retires the active keys and adds new ones in one transaction. */
export async function rotateKeys(db: Kysely<Database>, fresh: SigningKeyRow[], now: number, publishMs: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('oidc_signing_keys')
      .set({ active_alg: null, retired_at: now, publish_until: now + publishMs })
      .where('active_alg', 'is not', null)
      .execute();
    for (const row of fresh) await trx.insertInto('oidc_signing_keys').values(row).execute();
  });
}

export async function deleteRetiredKeys(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('oidc_signing_keys').where('active_alg', 'is', null).where('publish_until', '<=', now).execute();
}

// Consents

export async function findConsent(db: Kysely<Database>, userId: string, clientId: string): Promise<string[] | undefined> {
  const r = await db.selectFrom('oidc_consents').select('scopes').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
  return r ? r.scopes.split(' ').filter(Boolean) : undefined;
}

export async function saveConsent(db: Kysely<Database>, userId: string, clientId: string, scopes: string[], now: number): Promise<void> {
  const text = [...new Set(scopes)].sort().join(' ');
  await db
    .insertInto('oidc_consents')
    .values({ user_id: userId, client_id: clientId, scopes: text, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet({ scopes: text, updated_at: now }))
    .execute();
}
