import { findTotp, type TotpCredential } from '../store/totp.js';
import { amrOfMethod, combineAmr } from '../core/amr.js';
import { deleteSession, markSessionAuthenticated } from '../store/sessions.js';
import { isTwoFactorEnabled, twoFactorStatus, type TwoFactorStatus } from '../store/two-factor-status.js';
import { confirmPassword } from './accounts.js';
import type { Context, RequestMeta } from './context.js';
import { AppError } from './errors.js';
import { verifyGuessable, type GuessableMethod } from './second-factor.js';
import { logEvent } from './security-log.js';
import { startSession, type ActiveSession } from './sessions.js';
import { revokeAllDevices, trustDevice } from './trusted-devices.js';

export type SecondFactorProof = { method: GuessableMethod; code: string };

function checkMethodAvailable(status: TwoFactorStatus, method: GuessableMethod | 'webauthn'): void {
  const available =
    method === 'totp' ? status.totp : method === 'webauthn' ? status.securityKeys > 0 : isTwoFactorEnabled(status);
  if (!available) {
    const what = method === 'totp' ? 'an authenticator app' : method === 'webauthn' ? 'a security key' : 'recovery codes';
    throw new AppError(400, 'method_not_available', `This account does not have ${what} set up.`);
  }
}

export interface TwoFactorLoginResult {
  token: string;
  recoveryCodesRemaining?: number;
  device?: { token: string; expiresAt: number };
}

/**
 * Finishes a pending login once a second factor verified: the pending session is consumed and a new
 * session (new token, fresh) takes its place.
 */
export async function finishTwoFactorLogin(
  ctx: Context,
  pending: ActiveSession,
  proven: { method: GuessableMethod | 'webauthn'; recoveryCodesRemaining?: number | undefined },
  trust: boolean,
  meta: RequestMeta,
): Promise<TwoFactorLoginResult> {
  const userId = pending.session.userId;
  // Only one request may turn this pending login into a session.
  if (!(await deleteSession(ctx.db, pending.session.id))) {
    throw new AppError(401, 'no_pending_login', 'Your login has expired or was not started. Log in again with your email and password.');
  }
  if (proven.method === 'recovery_code') await revokeAllDevices(ctx, userId, meta, 'recovery_code_login');
  const amr = combineAmr(pending.session.amr, [amrOfMethod(proven.method)]);
  const { token } = await startSession(ctx, { userId, pending: false, fullyAuthenticated: true, amr }, meta);
  const device = trust ? await trustDevice(ctx, userId, meta) : undefined;
  await logEvent(ctx, userId, 'login', meta, { method: proven.method });
  return {
    token,
    ...(proven.recoveryCodesRemaining !== undefined ? { recoveryCodesRemaining: proven.recoveryCodesRemaining } : {}),
    ...(device ? { device } : {}),
  };
}

/** POST /login/two-factor with an app code or a recovery code. */
export async function completeTwoFactorLogin(
  ctx: Context,
  pending: ActiveSession,
  input: SecondFactorProof & { trustDevice?: boolean | undefined },
  meta: RequestMeta,
): Promise<TwoFactorLoginResult> {
  const userId = pending.session.userId;
  let totpRow: TotpCredential | null | undefined;
  if (input.method === 'totp') {
    // The app's own row says whether one is set up: one read, which the check then reuses.
    totpRow = await findTotp(ctx.db, userId);
    if (!totpRow || totpRow.confirmedAt === null) checkMethodAvailable({ totp: false, securityKeys: 0, recoveryCodesRemaining: 0 }, 'totp');
  } else {
    checkMethodAvailable(await twoFactorStatus(ctx.db, userId), input.method);
  }
  const result = await verifyGuessable(ctx, userId, input.method, input.code, meta, totpRow);
  return finishTwoFactorLogin(ctx, pending, { method: input.method, recoveryCodesRemaining: result.recoveryCodesRemaining }, input.trustDevice === true, meta);
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
  if (isTwoFactorEnabled(status)) {
    if (!input.method || input.code === undefined) {
      throw new AppError(400, 'second_factor_required', 'Also enter a code from your authenticator app or a recovery code.', {}, 'code');
    }
    checkMethodAvailable(status, input.method);
    await verifyGuessable(ctx, session.userId, input.method, input.code, meta);
  }
  await markSessionAuthenticated(ctx.db, session.id, ctx.clock.now(), combineAmr(['pwd'], isTwoFactorEnabled(status) ? [amrOfMethod(input.method!)] : []));
  await logEvent(ctx, session.userId, 'reauthenticated', meta, { method: isTwoFactorEnabled(status) ? input.method! : 'password' });
}

export { checkMethodAvailable };
