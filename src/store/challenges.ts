import type { Kysely } from 'kysely';
import { challengeProblem, type CeremonyPurpose, type ChallengeProblem } from '../core/security-key.js';
import type { Database } from './schema.js';

export interface Challenge {
  id: string;
  sessionId: string;
  userId: string;
  purpose: string;
  /** base64url, as sent to the browser. */
  challenge: string;
  createdAt: number;
  expiresAt: number;
}

type Row = Database['challenges'];

const toChallenge = (r: Row): Challenge => ({
  id: r.id,
  sessionId: r.session_id,
  userId: r.user_id,
  purpose: r.purpose,
  challenge: r.challenge,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** One live challenge per session and ceremony: asking again replaces the older one. */
export async function saveChallenge(db: Kysely<Database>, c: Challenge): Promise<void> {
  await db
    .insertInto('challenges')
    .values({
      id: c.id,
      session_id: c.sessionId,
      user_id: c.userId,
      purpose: c.purpose,
      challenge: c.challenge,
      created_at: c.createdAt,
      expires_at: c.expiresAt,
    })
    .onConflict((oc) =>
      oc.columns(['session_id', 'purpose']).doUpdateSet({
        id: c.id,
        user_id: c.userId,
        challenge: c.challenge,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
      }),
    )
    .execute();
}

/**
 * Takes the session's challenge for a ceremony out of the database in one statement (DELETE …
 * RETURNING), so of any number of concurrent answers on any number of nodes exactly one gets it,
 * and then checks it (core/security-key.ts): an expired one is gone all the same.
 */
export async function consumeChallenge(
  db: Kysely<Database>,
  sessionId: string,
  purpose: CeremonyPurpose,
  now: number,
): Promise<{ ok: true; challenge: Challenge } | { ok: false; problem: ChallengeProblem }> {
  const r = await db.deleteFrom('challenges').where('session_id', '=', sessionId).where('purpose', '=', purpose).returningAll().executeTakeFirst();
  const challenge = r ? toChallenge(r) : null;
  const problem = challengeProblem(challenge, { sessionId, purpose }, now);
  return problem || !challenge ? { ok: false, problem: problem ?? 'missing' } : { ok: true, challenge };
}
