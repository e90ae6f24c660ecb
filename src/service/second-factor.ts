import type { Kysely } from 'kysely';
import { lockState } from '../core/lockout.js';
import { normalizeRecoveryCode } from '../core/recovery-codes.js';
import { normalizeTotpCode, verifyTotp } from '../core/totp.js';
import { claimAttempt, clearAttempts, findAttempts } from '../store/attempts.js';
import { consumeRecoveryCode } from '../store/recovery-codes.js';
import { acceptTotpStep, findTotp, type TotpCredential } from '../store/totp.js';
import type { Database } from '../store/schema.js';
import { twoFactorStatus } from '../store/two-factor-status.js';
import type { Context, RequestMeta } from './context.js';
import { AppError } from './errors.js';
import { recoveryCodeMacs } from './recovery-codes.js';
import { logEvent } from './security-log.js';
import { MAX_FAILURES } from '../core/lockout.js';
import { metrics } from './metrics.js';

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

/** Unwinds the transaction of a code that turned out not to be usable (wrong or already used). */
class NotConsumed extends Error {}

/**
 * Uses the code up in one transaction with `claim` (taking the pending login), so that of any
 * number of concurrent answers on one pending login at most one uses a code: the others find the
 * pending login gone, and their codes stay unused. A wrong code rolls the claim back.
 */
async function consumeClaiming(
  ctx: Context,
  claim: (db: Kysely<Database>) => Promise<boolean>,
  consume: (db: Kysely<Database>) => Promise<boolean>,
): Promise<boolean> {
  try {
    await ctx.db.transaction().execute(async (tx) => {
      if (!(await claim(tx))) throw noPendingLogin();
      if (!(await consume(tx))) throw new NotConsumed();
    });
    return true;
  } catch (err) {
    if (err instanceof NotConsumed) return false;
    throw err;
  }
}

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

/**
 * Checks one app code or recovery code for an account under the brute-force rule: the attempt is
 * claimed (and provisionally counted) atomically before it is checked, refused while locked, and a
 * success clears the count. The code itself is consumed atomically (TOTP step or recovery code);
 * with `claim`, in one transaction with it (see consumeClaiming).
 */
export async function verifyGuessable(
  ctx: Context,
  userId: string,
  method: GuessableMethod,
  input: string,
  meta: RequestMeta,
  /** The app's row when the caller already read it (the login step does, to know the app is set up). */
  totpRow?: TotpCredential | null,
  opts: { claim?: (db: Kysely<Database>) => Promise<boolean> } = {},
): Promise<{ recoveryCodesRemaining?: number }> {
  const normalized = method === 'totp' ? normalizeTotpCode(input) : normalizeRecoveryCode(input);
  if (normalized === null) {
    // A code of the wrong shape cannot be right, so it is refused without costing an attempt.
    const locked = await lockedError(ctx, userId);
    metrics.secondFactor(method, locked ? 'locked' : 'invalid');
    throw locked ?? invalidCode(method);
  }
  const now = ctx.clock.now();
  const failures = await claimAttempt(ctx.db, userId, now);
  if (failures === null) {
    metrics.secondFactor(method, 'locked');
    throw (await lockedError(ctx, userId)) ?? tooManyAttempts(1);
  }

  let reason = 'wrong';
  // The one conditional write that uses the code up, when there is something to use.
  let consume: ((db: Kysely<Database>) => Promise<boolean>) | null = null;
  if (method === 'totp') {
    const cred = totpRow !== undefined ? totpRow : await findTotp(ctx.db, userId);
    if (cred && cred.confirmedAt !== null) {
      const result = verifyTotp(ctx.box.decrypt(cred.secretEnc, totpSecretContext(userId)), normalized, now, cred.lastUsedStep);
      if (result.ok) {
        consume = (db) => acceptTotpStep(db, userId, result.step);
        reason = 'replayed';
      } else reason = result.reason;
    }
  } else {
    const macs = recoveryCodeMacs(ctx, userId, normalized);
    consume = (db) => consumeRecoveryCode(db, userId, macs, now);
  }
  let ok = false;
  if (consume) ok = opts.claim ? await consumeClaiming(ctx, opts.claim, consume) : await consume(ctx.db);

  metrics.secondFactor(method, ok ? 'ok' : reason === 'replayed' ? 'replayed' : 'invalid');
  if (ok) {
    await clearAttempts(ctx.db, userId);
    if (method === 'recovery_code') {
      metrics.recoveryCodeUsed();
      const { recoveryCodesRemaining } = await twoFactorStatus(ctx.db, userId);
      await logEvent(ctx, userId, 'recovery_code_used', meta, { remaining: recoveryCodesRemaining });
      return { recoveryCodesRemaining };
    }
    return {};
  }
  await logEvent(ctx, userId, 'second_factor_failed', meta, { method, reason, failures });
  if (failures >= MAX_FAILURES) {
    const locked = await lockedError(ctx, userId);
    const retryAfterS = locked ? Number(locked.headers['retry-after']) : 0;
    metrics.lockout();
    await logEvent(ctx, userId, 'lockout', meta, { failures, retryAfterSeconds: retryAfterS });
  }
  throw invalidCode(method);
}
