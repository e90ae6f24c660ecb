import type { Kysely } from 'kysely';
import type { EmailTokenPurpose } from '../core/email-token.js';
import type { Database } from './schema.js';

export interface EmailToken {
  id: string;
  tokenHash: string;
  userId: string;
  purpose: EmailTokenPurpose;
  email: string | null;
  eventId: string | null;
  detail: Record<string, string> | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  challenge: string | null;
  challengeExpiresAt: number | null;
}

type Row = Database['email_tokens'];

const toToken = (r: Row): EmailToken => ({
  id: r.id,
  tokenHash: r.token_hash,
  userId: r.user_id,
  purpose: r.purpose as EmailTokenPurpose,
  email: r.email,
  eventId: r.event_id,
  detail: r.detail ? (JSON.parse(r.detail) as Record<string, string>) : null,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  challenge: r.challenge,
  challengeExpiresAt: r.challenge_expires_at,
});

export async function insertEmailToken(
  db: Kysely<Database>,
  t: Pick<EmailToken, 'id' | 'tokenHash' | 'userId' | 'purpose' | 'email' | 'eventId' | 'detail' | 'createdAt' | 'expiresAt'>,
): Promise<void> {
  await db
    .insertInto('email_tokens')
    .values({
      id: t.id,
      token_hash: t.tokenHash,
      user_id: t.userId,
      purpose: t.purpose,
      email: t.email,
      event_id: t.eventId,
      detail: t.detail ? JSON.stringify(t.detail) : null,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      used_at: null,
      challenge: null,
      challenge_expires_at: null,
    })
    .execute();
}

/** A token is only ever looked up together with the purpose of the link it came from. */
export async function findEmailToken(db: Kysely<Database>, tokenHash: string, purposes: readonly EmailTokenPurpose[]): Promise<EmailToken | null> {
  const r = await db.selectFrom('email_tokens').selectAll().where('token_hash', '=', tokenHash).where('purpose', 'in', [...purposes]).executeTakeFirst();
  return r ? toToken(r) : null;
}

/**
 * Single use: one conditional UPDATE; of two requests racing with one token, one gets true.
 * `notBefore` (a reset link) also refuses a token older than the account's last password change.
 */
export async function consumeEmailToken(db: Kysely<Database>, id: string, now: number, notBefore?: number): Promise<boolean> {
  let q = db.updateTable('email_tokens').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).where('expires_at', '>', now);
  if (notBefore !== undefined) q = q.where('created_at', '>=', notBefore);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** How many tokens of a purpose the account was sent since `since` (the per-account limits). */
export async function countRecentTokens(db: Kysely<Database>, userId: string, purpose: EmailTokenPurpose, since: number): Promise<number> {
  const r = await db
    .selectFrom('email_tokens')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function latestTokenAt(db: Kysely<Database>, userId: string, purpose: EmailTokenPurpose): Promise<number | null> {
  const r = await db
    .selectFrom('email_tokens')
    .select((eb) => eb.fn.max('created_at').as('at'))
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .executeTakeFirst();
  return r?.at === null || r?.at === undefined ? null : Number(r.at);
}

export async function setTokenChallenge(db: Kysely<Database>, id: string, challenge: string, expiresAt: number): Promise<void> {
  await db.updateTable('email_tokens').set({ challenge, challenge_expires_at: expiresAt }).where('id', '=', id).where('used_at', 'is', null).execute();
}

/** Takes the stored WebAuthn challenge off the token (single use), returning it if it was live. */
export async function takeTokenChallenge(db: Kysely<Database>, id: string, now: number): Promise<string | null> {
  const r = await db
    .updateTable('email_tokens')
    .set({ challenge: null, challenge_expires_at: null })
    .where('id', '=', id)
    .where('challenge', 'is not', null)
    .returning(['challenge', 'challenge_expires_at'])
    .executeTakeFirst();
  if (!r || r.challenge === null || r.challenge_expires_at === null || r.challenge_expires_at <= now) return null;
  return r.challenge;
}

/** Kills the account's open links of some purposes (a reset made the others pointless). */
export async function retireTokens(db: Kysely<Database>, userId: string, purposes: readonly EmailTokenPurpose[], now: number): Promise<void> {
  await db.updateTable('email_tokens').set({ used_at: now }).where('user_id', '=', userId).where('purpose', 'in', [...purposes]).where('used_at', 'is', null).execute();
}

export async function deleteExpiredTokens(db: Kysely<Database>, now: number): Promise<number> {
  const r = await db.deleteFrom('email_tokens').where('expires_at', '<', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
