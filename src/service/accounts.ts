import { credentialGenerationOf } from '../store/credential-generation.js';
import { parseEmail } from '../core/email.js';
import { hashPassword, inHashSlot, passwordProblem, verifyPassword } from '../core/password.js';
import { randomId } from '../core/random.js';
import { hashToken, isTokenShaped } from '../core/token.js';
import { accountFlags } from '../store/account-admin.js';
import { deleteSession } from '../store/sessions.js';
import { isTwoFactorEnabled, methodsOf, twoFactorStatus, type SecondFactorMethod } from '../store/two-factor-status.js';
import { findUsableTrustedDevice, touchTrustedDevice } from '../store/trusted-devices.js';
import { EmailTakenError, findUserByEmail, findUserById, insertUser, listUsers, type User } from '../store/users.js';
import type { Context, RequestMeta } from './context.js';
import { AppError, invalidCredentials } from './errors.js';
import { addressForThrottle } from '../core/password-throttle.js';
import { claimPasswordCheck, knownDeviceToken, passwordCheckSucceeded } from './password-throttle.js';
import { logEvent } from './security-log.js';
import { completeDueRecovery } from './account-recovery.js';
import { startSession } from './sessions.js';
import { noteTwoFactorRule } from './require-two-factor.js';

export const accountLocked = () =>
  new AppError(403, 'account_locked', 'This account is locked. Contact the administrator of this service.');
import { queueVerification } from './mail/email-address.js';
import { passwordResetRequired, sendRequiredResetLink } from './mail/password-reset.js';
import { inTransaction } from './transaction.js';

/** 403 `account_locked` for a locked account; called once its credential (password, passkey) verified. */
export async function refuseIfLocked(ctx: Context, userId: string, meta: RequestMeta): Promise<void> {
  if ((await accountFlags(ctx.db, userId))?.lockedAt == null) return;
  await logEvent(ctx, userId, 'login_refused_locked', meta);
  throw accountLocked();
}

export function checkNewPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new AppError(400, problem.code, problem.message, {}, 'password');
}

function checkEmail(input: string) {
  const email = parseEmail(input);
  if (!email) throw new AppError(400, 'invalid_email', 'Enter a valid email address, like name@example.com.', {}, 'email');
  return email;
}

/** Creates an account (no session): used by signup and by the operator CLI. */
export async function createUser(ctx: Context, input: { email: string; password: string }): Promise<User> {
  const email = checkEmail(input.email);
  checkNewPassword(input.password);
  const now = ctx.clock.now();
  const user: User = {
    id: randomId(ctx.random),
    email: email.display,
    emailNormalized: email.normalized,
    passwordHash: await hashPassword(input.password),
    createdAt: now,
    passwordChangedAt: now,
    credentialGeneration: 0,
  };
  try {
    // The account and its "Confirm your email address" message exist together or not at all.
    await inTransaction(ctx, async (t) => {
      await insertUser(t.db, user);
      await queueVerification(t, user);
    });
  } catch (err) {
    if (err instanceof EmailTakenError) throw new AppError(409, 'email_taken', 'An account with this email already exists. Log in instead.', {}, 'email');
    throw err;
  }
  await noteTwoFactorRule(ctx, user.id);
  return user;
}

export async function signup(ctx: Context, input: { email: string; password: string }, meta: RequestMeta, replaces?: string) {
  if (ctx.config.signup === 'closed') throw new AppError(403, 'signup_closed', 'New accounts are created by the operator on this service.');
  const user = await createUser(ctx, input);
  await logEvent(ctx, user.id, 'signup', meta);
  const { token } = await startSession(ctx, { userId: user.id, pending: false, fullyAuthenticated: true, amr: ['pwd'], credentialGeneration: user.credentialGeneration, replaces }, meta);
  return { user, token };
}

/**
 * `knownDevice`: the device-recognition cookie's new value, once signed in (with 2FA on, the second
 * step gives it: the password alone does not make a browser one that signed in).
 */
export type LoginResult =
  | { status: 'ok'; token: string; userId: string; knownDevice: string; accountRecovered?: true }
  | { status: 'two_factor_required'; token: string; userId: string; methods: SecondFactorMethod[] };

/**
 * The password step. An unknown email burns the same argon2 time as a wrong password and gets the
 * same answer. With 2FA on and no trusted-device cookie for this account, the new session is only
 * pending.
 */
export async function login(
  ctx: Context,
  input: { email: string; password: string },
  meta: RequestMeta,
  opts: { replaces?: string | undefined; deviceToken?: string | undefined },
): Promise<LoginResult> {
  const email = parseEmail(input.email);
  const user = email ? await findUserByEmail(ctx.db, email.normalized) : null;
  // Counted before the check, for the address typed whether or not an account has it (SPEC §3).
  // Claim, check and clear share one hashing slot: logins queued for a slot are not yet counted.
  const ok = await inHashSlot(async (slot) => {
    const claim = await claimPasswordCheck(ctx, {
      address: addressForThrottle(email?.normalized ?? null, input.email),
      userId: user?.id ?? null,
      knownDevice: meta.knownDevice,
    });
    const passed = user ? await verifyPassword(user.passwordHash, input.password, slot) : await ctx.decoyVerify(input.password, slot);
    if (user && passed) await passwordCheckSucceeded(ctx, claim);
    return passed;
  });
  if (!user || !ok) {
    if (user) await logEvent(ctx, user.id, 'login_failed', meta, { reason: 'password' });
    throw invalidCredentials();
  }
  // Only after the password verified: the lock tells nothing to someone without it (SPEC §9).
  await refuseIfLocked(ctx, user.id, meta);
  await noteTwoFactorRule(ctx, user.id);
  if (user.passwordResetRequiredAt != null) {
    // "This wasn't me" was used: the password may be known to someone else (SPEC §7).
    await sendRequiredResetLink(ctx, user, meta);
    throw passwordResetRequired();
  }
  // SPEC §12: a recovery whose wait is over completes at this password login, before the factors
  // it removes are looked at; the person is then signed in without 2FA and sent to set it up.
  const accountRecovered = await completeDueRecovery(ctx, user.id, meta);
  // Completing it ended every session by moving the account's generation: this login's session
  // belongs to the new one (read after the change, so nothing older can be stamped with it).
  const credentialGeneration = accountRecovered ? await credentialGenerationOf(ctx.db, user.id) : user.credentialGeneration;
  const status = await twoFactorStatus(ctx.db, user.id);
  const now = ctx.clock.now();
  if (isTwoFactorEnabled(status)) {
    const device = opts.deviceToken && isTokenShaped(opts.deviceToken) ? await findUsableTrustedDevice(ctx.db, hashToken(opts.deviceToken), user.id, now) : null;
    if (!device) {
      const { token } = await startSession(ctx, { userId: user.id, pending: true, fullyAuthenticated: false, amr: ['pwd'], credentialGeneration: user.credentialGeneration, replaces: opts.replaces }, meta);
      return { status: 'two_factor_required', token, userId: user.id, methods: methodsOf(status) };
    }
    await touchTrustedDevice(ctx.db, device.id, now);
    // SPEC §3: skipping the second factor on a trusted device is a login, but not a fresh one.
    const { token } = await startSession(ctx, { userId: user.id, pending: false, fullyAuthenticated: false, amr: ['pwd'], credentialGeneration: user.credentialGeneration, replaces: opts.replaces }, meta);
    await logEvent(ctx, user.id, 'login', meta, { method: 'trusted_device', device: device.label });
    return { status: 'ok', token, userId: user.id, knownDevice: knownDeviceToken(ctx, user.id) };
  }
  const { token } = await startSession(ctx, { userId: user.id, pending: false, fullyAuthenticated: true, amr: ['pwd'], credentialGeneration, replaces: opts.replaces }, meta);
  await logEvent(ctx, user.id, 'login', meta, { method: 'password' });
  return { status: 'ok', token, userId: user.id, knownDevice: knownDeviceToken(ctx, user.id), ...(accountRecovered ? { accountRecovered } : {}) };
}

/**
 * The password again, for a signed-in person's sensitive step (re-authentication, disable, password
 * change). A wrong one is logged like a failed login and answered alike.
 */
export async function confirmPassword(ctx: Context, userId: string, password: string, meta: RequestMeta, during: string): Promise<User> {
  const user = await findUserById(ctx.db, userId);
  // The same per-address count as the login: a stolen session does not open a second guessing route.
  const claim = await claimPasswordCheck(ctx, { address: user?.emailNormalized ?? userId, userId, knownDevice: meta.knownDevice });
  if (!user || !(await verifyPassword(user.passwordHash, password))) {
    await logEvent(ctx, userId, 'login_failed', meta, { reason: 'password', during });
    // The person is signed in and only typed a password: say that, not "email or password".
    throw new AppError(401, 'invalid_credentials', 'That is not your password. Check it and try again.', {}, 'password');
  }
  await passwordCheckSucceeded(ctx, claim);
  return user;
}

export async function logout(ctx: Context, session: { id: string; userId: string; pending: boolean }, meta: RequestMeta): Promise<void> {
  const deleted = await deleteSession(ctx.db, session.id);
  if (deleted && !session.pending) await logEvent(ctx, session.userId, 'logout', meta);
}

export { listUsers };
