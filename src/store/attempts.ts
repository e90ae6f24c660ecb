import { sql, type Kysely, type SqlBool } from 'kysely';
import { lockDurationMs, MAX_FAILURES, MAX_LOCK_MS, type FailedAttempts } from '../core/lockout.js';
import { openRecoveries } from './account-recovery.js';
import { pendingLogin } from './sessions.js';
import { affected, arg, first, prepare } from './prepared.js';
import type { Database } from './schema.js';

/**
 * The lock schedule of core/lockout.ts as a SQL expression over the stored failure count, built once
 * from the same function so the two cannot drift apart.
 */
function lockDurationSql(column: string) {
  const arms: string[] = [];
  let f = MAX_FAILURES;
  for (; lockDurationMs(f) < MAX_LOCK_MS; f++) arms.push(`WHEN ${column} = ${f} THEN ${lockDurationMs(f)}`);
  return sql.raw(`(CASE WHEN ${column} < ${MAX_FAILURES} THEN 0 ${arms.join(' ')} ELSE ${MAX_LOCK_MS} END)`);
}

const LOCK_OF_EXISTING = lockDurationSql('second_factor_attempts.failures');

export async function findAttempts(db: Kysely<Database>, userId: string): Promise<FailedAttempts | null> {
  const r = await db.selectFrom('second_factor_attempts').select(['failures', 'last_failure_at']).where('user_id', '=', userId).executeTakeFirst();
  return r ? { failures: r.failures, lastFailureAt: r.last_failure_at } : null;
}

/** What a claimed guess may be checked against, read by the statement that claims it. */
export interface ClaimedAttempt {
  /** The failure count including this attempt. */
  failures: number;
  /** The account's confirmed authenticator app, or null when it has none. */
  totp: { secretEnc: string; lastUsedStep: number | null } | null;
  /** Whether the pending login the guess answers (if any) is still there. */
  pendingLogin: boolean;
  /** Whether an account recovery is requested or waiting (SPEC §12: a sign-in with a factor ends it). */
  recoveryUnderWay: boolean;
}

/**
 * Claims the right to check one guess: counts it as a failure up front, in one atomic write that
 * only succeeds while the account is not locked. A success then clears the count. So however many
 * requests arrive at once, on however many nodes, at most MAX_FAILURES guesses are checked before
 * the lock holds. Inside a transaction the claimed row stays locked until commit (PostgreSQL's row
 * lock, SQLite's single writer), which serialises the guesses of one account.
 *
 * The same statement returns what the check and the login after it need, so that a second-factor
 * step reads nothing before its transaction. On PostgreSQL these subqueries see the database as of
 * the statement's start: a claim that waited for another guess's transaction can return the app's
 * last step or the pending login as they were before it. The writes that use a code therefore keep
 * their own guards (store/totp.ts acceptTotpStep, store/recovery-codes.ts consumeRecoveryCode).
 */
const claim = prepare<
  [userId: string, now: number, pendingSessionId: string | null],
  { failures: number; totp_secret_enc: string | null; totp_last_used_step: number | null; pending_login: SqlBool; recovery_under_way: SqlBool }
>((db) =>
  db
    .insertInto('second_factor_attempts')
    .values({ user_id: arg<string>(0), failures: 1, last_failure_at: arg<number>(1) })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ failures: sql`second_factor_attempts.failures + 1`, last_failure_at: arg<number>(1) })
        .where(
          sql<boolean>`(second_factor_attempts.failures < ${sql.lit(MAX_FAILURES)} OR second_factor_attempts.last_failure_at + ${LOCK_OF_EXISTING} <= ${arg<number>(1)})`,
        ),
    )
    .returning((eb) => [
      'failures',
      eb
        .selectFrom('totp_credentials')
        .select('totp_credentials.secret_enc')
        .where('totp_credentials.user_id', '=', arg<string>(0))
        .where('totp_credentials.confirmed_at', 'is not', null)
        .as('totp_secret_enc'),
      eb.selectFrom('totp_credentials').select('totp_credentials.last_used_step').where('totp_credentials.user_id', '=', arg<string>(0)).as('totp_last_used_step'),
      eb.exists(pendingLogin(db, arg<string | null>(2))).as('pending_login'),
      eb.exists(openRecoveries(db, arg<string>(0))).as('recovery_under_way'),
    ]),
);

/**
 * Returns null when the account is locked. `pendingSessionId`: the pending login the guess answers
 * (null for a check inside a signed-in session).
 */
export async function claimAttempt(db: Kysely<Database>, userId: string, now: number, pendingSessionId: string | null = null): Promise<ClaimedAttempt | null> {
  const r = await first(db, claim(db, userId, now, pendingSessionId));
  if (!r) return null;
  return {
    failures: Number(r.failures),
    totp: r.totp_secret_enc === null ? null : { secretEnc: r.totp_secret_enc, lastUsedStep: r.totp_last_used_step === null ? null : Number(r.totp_last_used_step) },
    // SQLite answers EXISTS with 0 or 1, PostgreSQL with a boolean.
    pendingLogin: Boolean(r.pending_login),
    recoveryUnderWay: Boolean(r.recovery_under_way),
  };
}

const clear = prepare<[userId: string], unknown>((db) => db.deleteFrom('second_factor_attempts').where('user_id', '=', arg<string>(0)));

export async function clearAttempts(db: Kysely<Database>, userId: string): Promise<void> {
  await affected(db, clear(db, userId));
}
