import type { Kysely } from 'kysely';
import { affected, arg, first, prepare } from './prepared.js';
import { pendingLogin } from './sessions.js';
import type { Database } from './schema.js';

export interface TotpCredential {
  userId: string;
  secretEnc: string;
  confirmedAt: number | null;
  lastUsedStep: number | null;
}

const totpByUser = prepare<[userId: string], { user_id: string; secret_enc: string; confirmed_at: number | null; last_used_step: number | null }>((db) =>
  db.selectFrom('totp_credentials').select(['user_id', 'secret_enc', 'confirmed_at', 'last_used_step']).where('user_id', '=', arg<string>(0)),
);

export async function findTotp(db: Kysely<Database>, userId: string): Promise<TotpCredential | null> {
  const r = await first(db, totpByUser(db, userId));
  return r ? { userId: r.user_id, secretEnc: r.secret_enc, confirmedAt: r.confirmed_at, lastUsedStep: r.last_used_step } : null;
}

/**
 * Stores (or replaces) a secret awaiting confirmation. The conflict update only touches an
 * unconfirmed row, so a racing setup can never overwrite an enabled app. Returns false then.
 */
export async function savePendingTotp(db: Kysely<Database>, userId: string, secretEnc: string, now: number): Promise<boolean> {
  const r = await db
    .insertInto('totp_credentials')
    .values({ user_id: userId, secret_enc: secretEnc, confirmed_at: null, last_used_step: null, created_at: now })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ secret_enc: secretEnc, created_at: now, last_used_step: null })
        .where('totp_credentials.confirmed_at', 'is', null),
    )
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Turns the pending secret on, if it is still the one the code was checked against. */
export async function confirmTotp(db: Kysely<Database>, userId: string, secretEnc: string, step: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('totp_credentials')
    .set({ confirmed_at: now, last_used_step: step })
    .where('user_id', '=', userId)
    .where('secret_enc', '=', secretEnc)
    .where('confirmed_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * The replay guard: one conditional write that only succeeds for a step later than any accepted
 * before. Of concurrent requests with one code, on any number of nodes, exactly one wins.
 */
const stepGuard = (db: Kysely<Database>) =>
  db
    .updateTable('totp_credentials')
    .set({ last_used_step: arg<number>(1) })
    .where('user_id', '=', arg<string>(0))
    .where('confirmed_at', 'is not', null)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', arg<number>(1))]));

const acceptStep = prepare<[userId: string, step: number], unknown>(stepGuard);

/**
 * The same guard for a code that answers a pending login: the step is used only while that login
 * is still there, so a code that arrives after another answer took the login stays unused.
 */
const acceptStepForPending = prepare<[userId: string, step: number, pendingSessionId: string], unknown>((db) =>
  stepGuard(db).where((eb) => eb.exists(pendingLogin(db, arg<string>(2)))),
);

export async function acceptTotpStep(db: Kysely<Database>, userId: string, step: number, pendingSessionId?: string): Promise<boolean> {
  const q = pendingSessionId === undefined ? acceptStep(db, userId, step) : acceptStepForPending(db, userId, step, pendingSessionId);
  return (await affected(db, q)) === 1;
}

export async function deleteTotp(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('totp_credentials').where('user_id', '=', userId).execute();
}
