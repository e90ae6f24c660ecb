import { lockState, MAX_FAILURES } from '../core/lockout.js';
import { normalizeRecoveryCode } from '../core/recovery-codes.js';
import { normalizeTotpCode, verifyTotp } from '../core/totp.js';
import { claimAttempt, clearAttempts, findAttempts } from '../store/attempts.js';
import { consumeRecoveryCode } from '../store/recovery-codes.js';
import { claimPendingSession, pendingSessionExists } from '../store/sessions.js';
import { acceptTotpStep, findTotp } from '../store/totp.js';
import { twoFactorStatus } from '../store/two-factor-status.js';
import type { Context, RequestMeta } from './context.js';
import { AppError } from './errors.js';
import { recoveryCodeMacs } from './recovery-codes.js';
import { metrics } from './metrics.js';
import { logEvent } from './security-log.js';
import { inTransaction } from './transaction.js';

/** The methods that can be guessed, and so share the per-account lock (SPEC §3). */
export type GuessableMethod = 'totp' | 'recovery_code';

export const totpSecretContext = (userId: string) => `totp-secret:${userId}`;

function invalidCode(method: GuessableMethod): AppError {
  return method === 'totp'
    ? new AppError(401, 'invalid_code', 'That code is not right. Enter the current 6-digit code from your authenticator app.', {}, 'code')
    : new AppError(401, 'invalid_code', 'That recovery code is not right, or it was already used.', {}, 'code');
}

function minutes(s: number): string {
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

export const noPendingLogin = () =>
  new AppError(401, 'no_pending_login', 'Your login has expired or was not started. Log in again with your email and password.');

export function tooManyAttempts(retryAfterS: number): AppError {
  return new AppError(
    429,
    'too_many_attempts',
    `Too many wrong codes. For your security, try again in ${minutes(retryAfterS)}.`,
    { 'retry-after': String(retryAfterS) },
    'code',
  );
}

async function lockedError(ctx: Context, userId: string): Promise<AppError | null> {
  const state = lockState(await findAttempts(ctx.db, userId), ctx.clock.now());
  return state.locked ? tooManyAttempts(state.retryAfterS) : null;
}

/** What a used code tells the flow that asked for it. */
export interface VerifiedCode {
  /** After a recovery code: how many unused ones are left. */
  recoveryCodesRemaining?: number;
  /** An account recovery was under way when the code was claimed (SPEC §12: a sign-in with a factor ends it). */
  recoveryUnderWay: boolean;
}

interface CheckOptions<T> {
  /** The pending login the code answers (POST /login/two-factor), taken in the code's transaction. */
  pendingSessionId?: string;
  /** For an account without an authenticator app: refuse the app code with this, costing nothing. */
  noApp?: () => AppError;
  /**
   * Runs in the code's transaction once the code is used (and the pending login taken): the rest of
   * the login. A failure there rolls back both.
   */
  finish: (t: Context, code: VerifiedCode) => Promise<T>;
}

type Outcome<T> =
  | { kind: 'locked'; retryAfterS: number | null }
  | { kind: 'no_pending_login' }
  | { kind: 'failed'; reason: string; lockedOut: boolean }
  | { kind: 'used'; value: T };

/** A code was used, but the pending login it answered was gone by the time it was to be taken. */
class PendingLoginLost extends Error {}

async function hasApp(db: Context['db'], userId: string): Promise<boolean> {
  const cred = await findTotp(db, userId);
  return cred !== null && cred.confirmedAt !== null;
}

/**
 * Checks one app code or recovery code for an account under the brute-force rule, in one
 * transaction: the attempt is claimed (counted as a failure) before the code is checked, and
 * refused while the account is locked; then the code is used up by one conditional write (the TOTP
 * step, or the recovery code), the pending login (if any) is taken, the count is cleared and
 * `finish` does the rest. A wrong or replayed code commits only the counted attempt and its
 * security-log events. The claimed attempt row stays locked until commit (PostgreSQL's row lock,
 * SQLite's single writer), so the guesses of one account are checked one at a time, and the
 * success path is one commit.
 */
async function checkGuess<T>(
  ctx: Context,
  userId: string,
  method: GuessableMethod,
  input: string,
  meta: RequestMeta,
  opts: CheckOptions<T>,
): Promise<T> {
  const normalized = method === 'totp' ? normalizeTotpCode(input) : normalizeRecoveryCode(input);
  if (normalized === null) {
    if (opts.noApp && method === 'totp' && !(await hasApp(ctx.db, userId))) throw opts.noApp();
    // A code of the wrong shape cannot be right, so it is refused without costing an attempt.
    const locked = await lockedError(ctx, userId);
    metrics.secondFactor(method, locked ? 'locked' : 'invalid');
    throw locked ?? invalidCode(method);
  }
  const now = ctx.clock.now();
  const pendingId = opts.pendingSessionId;
  // Keyed hashes before the transaction: on SQLite its one connection is held until commit.
  const macs = method === 'recovery_code' ? recoveryCodeMacs(ctx, userId, normalized) : [];

  let outcome: Outcome<T>;
  try {
    outcome = await inTransaction(ctx, async (t): Promise<Outcome<T>> => {
      const claimed = await claimAttempt(t.db, userId, now, pendingId ?? null);
      if (!claimed) {
        if (opts.noApp && method === 'totp' && !(await hasApp(t.db, userId))) throw opts.noApp();
        const state = lockState(await findAttempts(t.db, userId), now);
        return { kind: 'locked', retryAfterS: state.locked ? state.retryAfterS : null };
      }
      // Thrown, so the claim rolls back: asking for a method the account lacks is no guess.
      if (opts.noApp && method === 'totp' && !claimed.totp) throw opts.noApp();
      // Another answer took the pending login (or it ended) since the guard saw it: the code is not
      // checked, and the attempt stays counted like every claimed one.
      if (pendingId !== undefined && !claimed.pendingLogin) return { kind: 'no_pending_login' };

      let reason = 'wrong';
      // Whether a conditional write tried to use the code (it also checks the pending login).
      let tried = false;
      let used = false;
      if (method === 'totp') {
        if (claimed.totp) {
          const result = verifyTotp(t.box.decrypt(claimed.totp.secretEnc, totpSecretContext(userId)), normalized, now, claimed.totp.lastUsedStep);
          if (result.ok) {
            reason = 'replayed';
            tried = true;
            used = await acceptTotpStep(t.db, userId, result.step, pendingId);
          } else reason = result.reason;
        }
      } else {
        tried = true;
        used = await consumeRecoveryCode(t.db, userId, macs, now, pendingId);
      }

      if (!used) {
        // The write also refuses when the pending login went meanwhile (another answer took it).
        if (pendingId !== undefined && tried && !(await pendingSessionExists(t.db, pendingId))) return { kind: 'no_pending_login' };
        await logEvent(t, userId, 'second_factor_failed', meta, { method, reason, failures: claimed.failures });
        const lockedOut = claimed.failures >= MAX_FAILURES;
        if (lockedOut) {
          // The claim just stored this count and time, so the lock is known without reading it back.
          const state = lockState({ failures: claimed.failures, lastFailureAt: now }, now);
          await logEvent(t, userId, 'lockout', meta, { failures: claimed.failures, retryAfterSeconds: state.locked ? state.retryAfterS : 0 });
        }
        return { kind: 'failed', reason, lockedOut };
      }

      // The guarded write saw the pending login. On SQLite nothing can remove it before this delete
      // (one writer); on PostgreSQL a security key's answer or a logout on another connection can,
      // and then the code's use rolls back with everything else.
      if (pendingId !== undefined && !(await claimPendingSession(t.db, pendingId))) throw new PendingLoginLost();
      await clearAttempts(t.db, userId);
      const code: VerifiedCode = { recoveryUnderWay: claimed.recoveryUnderWay };
      if (method === 'recovery_code') {
        const { recoveryCodesRemaining } = await twoFactorStatus(t.db, userId);
        await logEvent(t, userId, 'recovery_code_used', meta, { remaining: recoveryCodesRemaining });
        code.recoveryCodesRemaining = recoveryCodesRemaining;
      }
      return { kind: 'used', value: await opts.finish(t, code) };
    });
  } catch (err) {
    if (!(err instanceof PendingLoginLost)) throw err;
    // The rollback took the counted attempt back with the code's use; the code was checked, so it counts.
    await claimAttempt(ctx.db, userId, now);
    throw noPendingLogin();
  }

  // Counted after commit, so that a rolled-back transaction counts nothing.
  switch (outcome.kind) {
    case 'locked':
      metrics.secondFactor(method, 'locked');
      throw tooManyAttempts(outcome.retryAfterS ?? 1);
    case 'no_pending_login':
      throw noPendingLogin();
    case 'failed':
      metrics.secondFactor(method, outcome.reason === 'replayed' ? 'replayed' : 'invalid');
      if (outcome.lockedOut) metrics.lockout();
      throw invalidCode(method);
    case 'used':
      metrics.secondFactor(method, 'ok');
      if (method === 'recovery_code') metrics.recoveryCodeUsed();
      return outcome.value;
  }
}

/**
 * Checks one app code or recovery code inside a signed-in session (re-authentication, password
 * reset): see checkGuess. The caller has checked that the account has the method.
 */
export async function verifyGuessable(ctx: Context, userId: string, method: GuessableMethod, input: string, meta: RequestMeta): Promise<VerifiedCode> {
  return checkGuess(ctx, userId, method, input, meta, { finish: async (_t, code) => code });
}

/**
 * Answers a pending login with an app code or a recovery code, all in the code's transaction (see
 * checkGuess): of any number of concurrent answers on one pending login, one takes it, and only its
 * code is used. Returns what `opts.finish` returned.
 */
export async function answerPendingLogin<T>(
  ctx: Context,
  pendingSessionId: string,
  userId: string,
  method: GuessableMethod,
  input: string,
  meta: RequestMeta,
  opts: { noApp: () => AppError; finish: (t: Context, code: VerifiedCode) => Promise<T> },
): Promise<T> {
  return checkGuess(ctx, userId, method, input, meta, { pendingSessionId, ...opts });
}
