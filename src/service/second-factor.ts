import { lockState } from '../core/lockout.js';
import { normalizeRecoveryCode } from '../core/recovery-codes.js';
import { normalizeTotpCode, verifyTotp } from '../core/totp.js';
import { claimAttempt, clearAttempts, findAttempts } from '../store/attempts.js';
import { consumeRecoveryCode } from '../store/recovery-codes.js';
import { acceptTotpStep, findTotp, type TotpCredential } from '../store/totp.js';
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
 * success clears the count. The code itself is consumed atomically (TOTP step or recovery code).
 */
export async function verifyGuessable(
  ctx: Context,
  userId: string,
  method: GuessableMethod,
  input: string,
  meta: RequestMeta,
  /** The app's row when the caller already read it (the login step does, to know the app is set up). */
  totpRow?: TotpCredential | null,
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

  let ok = false;
  let reason = 'wrong';
  if (method === 'totp') {
    const cred = totpRow !== undefined ? totpRow : await findTotp(ctx.db, userId);
    if (cred && cred.confirmedAt !== null) {
      const result = verifyTotp(ctx.box.decrypt(cred.secretEnc, totpSecretContext(userId)), normalized, now, cred.lastUsedStep);
      if (result.ok) {
        ok = await acceptTotpStep(ctx.db, userId, result.step);
        if (!ok) reason = 'replayed';
      } else reason = result.reason;
    }
  } else {
    ok = await consumeRecoveryCode(ctx.db, userId, recoveryCodeMacs(ctx, userId, normalized), now);
  }

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
