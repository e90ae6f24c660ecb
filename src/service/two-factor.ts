import { combineAmr, type AmrValue } from '../core/amr.js';
import { generateTotpSecret, otpauthUri, verifyTotp } from '../core/totp.js';
import { clearAttempts } from '../store/attempts.js';
import { deleteRecoveryCodes } from '../store/recovery-codes.js';
import { deleteUserSecurityKeys } from '../store/security-keys.js';
import { markSessionAuthenticated } from '../store/sessions.js';
import { confirmTotp, deleteTotp, findTotp, savePendingTotp } from '../store/totp.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../store/two-factor-status.js';
import { findUserByEmail } from '../store/users.js';
import { confirmPassword } from './accounts.js';
import type { Context, RequestMeta } from './context.js';
import { AppError, notFound } from './errors.js';
import { issueRecoveryCodes } from './recovery-codes.js';
import { totpSecretContext } from './second-factor.js';
import { logEvent } from './security-log.js';
import { revokeAllDevices } from './trusted-devices.js';

export interface TotpSetup {
  secret: string;
  otpauthUri: string;
  qrCodeSvg: string;
}

export const alreadyEnabled = () =>
  new AppError(409, 'already_enabled', 'An authenticator app is already set up. To move to a new phone, disable two-factor authentication, then set it up again.');

/**
 * Starts (or restarts) app setup: a fresh secret waits, encrypted, until a code from it confirms.
 * Nothing about login changes until then.
 */
export async function startTotpSetup(ctx: Context, userId: string, email: string): Promise<TotpSetup> {
  const existing = await findTotp(ctx.db, userId);
  if (existing?.confirmedAt != null) throw alreadyEnabled();
  const secret = generateTotpSecret(ctx.random);
  const saved = await savePendingTotp(ctx.db, userId, ctx.box.encrypt(secret, totpSecretContext(userId)), ctx.clock.now());
  if (!saved) throw alreadyEnabled();
  const uri = otpauthUri({ issuer: ctx.config.issuer, account: email, secret });
  // qrcode loads on the first setup, not at start.
  const QRCode = (await import('qrcode')).default;
  const qrCodeSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, otpauthUri: uri, qrCodeSvg };
}

/**
 * Turns the app on when its first code verifies. That code counts as used (no replay right after),
 * and as proof of the new factor, so the session becomes fresh. Returns the new recovery codes.
 */
export async function confirmTotpSetup(ctx: Context, session: { id: string; userId: string; amr: AmrValue[] }, code: string, meta: RequestMeta): Promise<string[]> {
  const cred = await findTotp(ctx.db, session.userId);
  if (!cred) throw new AppError(409, 'no_pending_setup', 'Start the setup first: there is no secret waiting for a code.');
  if (cred.confirmedAt !== null) throw alreadyEnabled();
  const now = ctx.clock.now();
  const secret = ctx.box.decrypt(cred.secretEnc, totpSecretContext(session.userId));
  const result = verifyTotp(secret, code, now, null);
  if (!result.ok) {
    throw new AppError(400, 'invalid_code', 'That code is not right. Check that the app shows this account and enter its current 6-digit code.', {}, 'code');
  }
  const wasEnabled = isTwoFactorEnabled(await twoFactorStatus(ctx.db, session.userId));
  if (!(await confirmTotp(ctx.db, session.userId, cred.secretEnc, result.step, now))) {
    throw new AppError(409, 'setup_changed', 'The setup was restarted or finished elsewhere. Start again.');
  }
  // A new set even when security keys had turned 2FA on already: the answer shows the codes, and
  // the person is told they replace the old ones (in hashed mode the old ones cannot be shown).
  const codes = await issueRecoveryCodes(ctx, session.userId);
  await markSessionAuthenticated(ctx.db, session.id, now, combineAmr(session.amr, ['otp']));
  if (wasEnabled) {
    await logEvent(ctx, session.userId, 'authenticator_app_added', meta);
    await logEvent(ctx, session.userId, 'recovery_codes_regenerated', meta);
  } else {
    await logEvent(ctx, session.userId, 'two_factor_enabled', meta, { method: 'totp' });
  }
  return codes;
}

/** Everything SPEC §2 "Disable" removes, for the person and for the operator alike. */
async function removeSecondFactors(ctx: Context, userId: string, meta: RequestMeta, because: string): Promise<void> {
  await deleteTotp(ctx.db, userId);
  await deleteUserSecurityKeys(ctx.db, userId);
  await deleteRecoveryCodes(ctx.db, userId);
  await clearAttempts(ctx.db, userId);
  await revokeAllDevices(ctx, userId, meta, because);
}

export async function disableTwoFactor(ctx: Context, userId: string, password: string, meta: RequestMeta): Promise<void> {
  await confirmPassword(ctx, userId, password, meta, 'disable_two_factor');
  const status = await twoFactorStatus(ctx.db, userId);
  if (!isTwoFactorEnabled(status) && !(await findTotp(ctx.db, userId))) {
    throw new AppError(409, 'two_factor_not_enabled', 'Two-factor authentication is already off.');
  }
  await removeSecondFactors(ctx, userId, meta, 'two_factor_disabled');
  await logEvent(ctx, userId, 'two_factor_disabled', meta);
}

/** `twofold users reset-2fa`: for a person who lost both the device and the recovery codes. */
export async function adminResetTwoFactor(ctx: Context, email: string): Promise<{ userId: string; wasEnabled: boolean }> {
  const user = await findUserByEmail(ctx.db, email.trim().toLowerCase());
  if (!user) throw notFound(`An account for ${email.trim()}`);
  const wasEnabled = isTwoFactorEnabled(await twoFactorStatus(ctx.db, user.id));
  const meta = { ip: null, userAgent: 'twofold CLI' };
  await removeSecondFactors(ctx, user.id, meta, 'admin_reset');
  await logEvent(ctx, user.id, 'admin_two_factor_reset', meta, { wasEnabled });
  return { userId: user.id, wasEnabled };
}
