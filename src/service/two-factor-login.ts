import { amrOfMethod, combineAmr } from '../core/amr.js';
import { claimPendingSession, markSessionAuthenticated } from '../store/sessions.js';
import { isTwoFactorEnabled, twoFactorStatus, type TwoFactorStatus } from '../store/two-factor-status.js';
import { confirmPassword } from './accounts.js';
import { cancelRecoveriesOnSecondFactor } from './account-recovery.js';
import type { Context, RequestMeta } from './context.js';
import { AppError } from './errors.js';
import { answerPendingLogin, noPendingLogin, verifyGuessable, type GuessableMethod, type VerifiedCode } from './second-factor.js';
import { knownDeviceToken } from './password-throttle.js';
import { logEvent } from './security-log.js';
import { startSession, type ActiveSession } from './sessions.js';
import { revokeAllDevices, trustDevice } from './trusted-devices.js';

export type SecondFactorProof = { method: GuessableMethod; code: string };

function methodNotAvailable(method: GuessableMethod | 'webauthn'): AppError {
  const what = method === 'totp' ? 'an authenticator app' : method === 'webauthn' ? 'a security key' : 'recovery codes';
  return new AppError(400, 'method_not_available', `This account does not have ${what} set up.`);
}

function checkMethodAvailable(status: TwoFactorStatus, method: GuessableMethod | 'webauthn'): void {
  const available =
    method === 'totp' ? status.totp : method === 'webauthn' ? status.securityKeys > 0 : isTwoFactorEnabled(status);
  if (!available) throw methodNotAvailable(method);
}

export interface TwoFactorLoginResult {
  token: string;
  /**
   * The device-recognition cookie's new value. Given only once the second factor is proven: made at
   * the password step, it would mark a browser that never finished signing in as one that did, and
   * the new-browser notice (SPEC §7) would never go out for an account with 2FA.
   */
  knownDevice: string;
  recoveryCodesRemaining?: number;
  device?: { token: string; expiresAt: number };
}

/**
 * The new session (new token, fresh) that takes a pending login's place once a second factor
 * verified and the pending login was taken, with the pending login's credential generation; its
 * trusted device when asked for, and the security-log entry. `recoveryUnderWay`: false only when the
 * caller knows no account recovery is under way, which saves looking for one.
 */
async function issueLogin(
  ctx: Context,
  pending: ActiveSession,
  proven: { method: GuessableMethod | 'webauthn'; recoveryCodesRemaining?: number | undefined },
  trust: boolean,
  meta: RequestMeta,
  recoveryUnderWay: boolean,
): Promise<TwoFactorLoginResult> {
  const userId = pending.session.userId;
  const generation = pending.session.credentialGeneration;
  if (proven.method === 'recovery_code') await revokeAllDevices(ctx, userId, meta, 'recovery_code_login');
  const amr = combineAmr(pending.session.amr, [amrOfMethod(proven.method)]);
  const { token } = await startSession(ctx, { userId, pending: false, fullyAuthenticated: true, amr, credentialGeneration: generation }, meta);
  const device = trust ? await trustDevice(ctx, userId, meta, generation) : undefined;
  await logEvent(ctx, userId, 'login', meta, { method: proven.method });
  // SPEC §12: the owner still has a factor, so a self-service recovery under way ends.
  if (recoveryUnderWay) await cancelRecoveriesOnSecondFactor(ctx, userId, meta);
  return {
    token,
    knownDevice: knownDeviceToken(ctx, userId),
    ...(proven.recoveryCodesRemaining !== undefined ? { recoveryCodesRemaining: proven.recoveryCodesRemaining } : {}),
    ...(device ? { device } : {}),
  };
}

/** Finishes a pending login once a security key verified: only one request takes the pending login. */
export async function finishTwoFactorLogin(
  ctx: Context,
  pending: ActiveSession,
  proven: { method: 'webauthn' },
  trust: boolean,
  meta: RequestMeta,
): Promise<TwoFactorLoginResult> {
  if (!(await claimPendingSession(ctx.db, pending.session.id))) throw noPendingLogin();
  return issueLogin(ctx, pending, proven, trust, meta, true);
}

/**
 * POST /login/two-factor with an app code or a recovery code. One transaction claims the attempt,
 * checks and uses the code, takes the pending login and issues the new session (second-factor.ts
 * answerPendingLogin); a wrong code commits only the counted attempt and its log entries.
 */
export async function completeTwoFactorLogin(
  ctx: Context,
  pending: ActiveSession,
  input: SecondFactorProof & { trustDevice?: boolean | undefined },
  meta: RequestMeta,
): Promise<TwoFactorLoginResult> {
  const userId = pending.session.userId;
  // An app code needs no read first: the code's first statement reads the app's row, which says
  // whether one is set up (noApp).
  if (input.method === 'recovery_code') checkMethodAvailable(await twoFactorStatus(ctx.db, userId), 'recovery_code');
  return answerPendingLogin(ctx, pending.session.id, userId, input.method, input.code, meta, {
    noApp: () => methodNotAvailable('totp'),
    finish: (t, code) =>
      issueLogin(t, pending, { method: input.method, recoveryCodesRemaining: code.recoveryCodesRemaining }, input.trustDevice === true, meta, code.recoveryUnderWay),
  });
}

/**
 * POST /me/reauthenticate: the same proofs as a login (password, and a second factor when 2FA is
 * on) make the current session fresh for sensitive changes.
 */
export async function reauthenticate(
  ctx: Context,
  session: { id: string; userId: string },
  input: { password: string; method?: GuessableMethod | undefined; code?: string | undefined },
  meta: RequestMeta,
): Promise<void> {
  await confirmPassword(ctx, session.userId, input.password, meta, 'reauthenticate');
  const status = await twoFactorStatus(ctx.db, session.userId);
  let verified: VerifiedCode | null = null;
  if (isTwoFactorEnabled(status)) {
    if (!input.method || input.code === undefined) {
      throw new AppError(400, 'second_factor_required', 'Also enter a code from your authenticator app or a recovery code.', {}, 'code');
    }
    checkMethodAvailable(status, input.method);
    verified = await verifyGuessable(ctx, session.userId, input.method, input.code, meta);
  }
  await markSessionAuthenticated(ctx.db, session.id, ctx.clock.now(), combineAmr(['pwd'], isTwoFactorEnabled(status) ? [amrOfMethod(input.method!)] : []));
  await logEvent(ctx, session.userId, 'reauthenticated', meta, { method: isTwoFactorEnabled(status) ? input.method! : 'password' });
  if (verified?.recoveryUnderWay) await cancelRecoveriesOnSecondFactor(ctx, session.userId, meta);
}

export { checkMethodAvailable };
