import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Challenges of passwordless sign-ins. There is no session yet, so each is bound to the browser that
 * asked by the hash of a short-lived HttpOnly ceremony cookie, and found again by the challenge the
 * browser's signed answer names. One browser may have several at once (two tabs, autofill and the
 * button), each single-use.
 */
export interface PasskeyChallenge {
  challenge: string;
  binding: string;
  createdAt: number;
  expiresAt: number;
}

export async function savePasskeyChallenge(db: Kysely<Database>, c: PasskeyChallenge): Promise<void> {
  await db.insertInto('passkey_challenges').values({ challenge: c.challenge, binding: c.binding, created_at: c.createdAt, expires_at: c.expiresAt }).execute();
}

/**
 * Takes the challenge out in one statement (DELETE … RETURNING) when it was issued to this browser,
 * so of any number of concurrent answers on any number of nodes exactly one gets it. An expired one
 * is taken (and so gone) all the same; the caller refuses it.
 */
export async function consumePasskeyChallenge(
  db: Kysely<Database>,
  challenge: string,
  binding: string,
): Promise<PasskeyChallenge | null> {
  const r = await db.deleteFrom('passkey_challenges').where('challenge', '=', challenge).where('binding', '=', binding).returningAll().executeTakeFirst();
  return r ? { challenge: r.challenge, binding: r.binding, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) } : null;
}
