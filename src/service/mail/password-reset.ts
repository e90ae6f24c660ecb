import { sql } from 'kysely';
import { parseEmail } from '../../core/email.js';
import { newEmailToken, tokenProblem } from '../../core/email-token.js';
import { hashPassword } from '../../core/password.js';
import { randomId } from '../../core/random.js';
import { hashToken, isTokenShaped } from '../../core/token.js';
import { consumeEmailToken, countRecentTokens, findEmailToken, retireTokens, type EmailToken } from '../../store/email-tokens.js';
import { endEverySession } from '../end-sessions.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { findUserById, markEmailVerified, setPasswordResetRequired, updatePasswordHash, type User } from '../../store/users.js';
import { checkNewPassword } from '../accounts.js';
import type { Context, RequestMeta } from '../context.js';
import { AppError } from '../errors.js';
import { verifyGuessable, type GuessableMethod } from '../second-factor.js';
import { logEvent } from '../security-log.js';
import { inTransaction } from '../transaction.js';
import { invalidToken } from './email-address.js';
import { enqueueMail } from './outbox.js';
import { linkTo, siteOf } from './notify.js';
import { passwordResetMessage } from './templates.js';
import { verifyResetKey } from './reset-security-key.js';

/*
 * Forgot / reset password (SPEC §7). A reset never bypasses 2FA: with 2FA on, the reset asks for
 * the second factor under the account's code lock before anything changes, and a refused request
 * consumes nothing (not the link, not a code). Success ends every session and trusted device.
 */

export const RESETS_PER_HOUR = 3;
const HOUR = 60 * 60_000;

/**
 * POST /password/forgot. The same answer for every address, after the same work: the token, the
 * message and its sealing are made whether or not an account exists, and the three writes are
 * INSERT … SELECT statements driven by the account lookup itself (and the per-account limit of 3 an
 * hour), which insert nothing for an unknown address. So neither the answer nor its timing tells
 * a known address from an unknown one.
 */
export async function requestPasswordReset(ctx: Context, emailInput: string, meta: RequestMeta): Promise<void> {
  const email = parseEmail(emailInput);
  if (!email) throw new AppError(400, 'invalid_email', 'Enter a valid email address, like name@example.com.', {}, 'email');
  const tok = newEmailToken('password_reset', ctx.clock, ctx.random);
  const tokenId = randomId(ctx.random);
  const mailId = randomId(ctx.random);
  const eventId = randomId(ctx.random);
  const content = passwordResetMessage(siteOf(ctx), { url: linkTo(ctx, '/password/reset', tok.token), event: { at: tok.createdAt, ip: meta.ip, userAgent: meta.userAgent } });
  const sealed = ctx.box.encrypt(JSON.stringify(content), `mail:${mailId}`);
  const now = tok.createdAt;
  const text = (v: string | null) => sql`cast(${v} as text)`;
  const int = (v: number) => sql`cast(${v} as bigint)`;
  await inTransaction(ctx, async (t) => {
    await sql`insert into email_tokens (id, token_hash, user_id, purpose, email, created_at, expires_at)
      select ${text(tokenId)}, ${text(tok.tokenHash)}, u.id, 'password_reset', u.email, ${int(now)}, ${int(tok.expiresAt)}
      from users u
      where u.email_normalized = ${email.normalized}
        and (select count(*) from email_tokens r where r.user_id = u.id and r.purpose = 'password_reset' and r.created_at >= ${int(now - HOUR)}) < ${int(RESETS_PER_HOUR)}`.execute(t.db);
    await sql`insert into mail_outbox (id, user_id, kind, to_address, content_enc, state, attempts, created_at, next_attempt_at)
      select ${text(mailId)}, r.user_id, 'password_reset', r.email, ${text(sealed)}, 'queued', 0, ${int(now)}, ${int(now)}
      from email_tokens r where r.id = ${tokenId}`.execute(t.db);
    await sql`insert into security_events (id, user_id, type, at, ip, user_agent, detail)
      select ${text(now.toString(36).padStart(10, '0') + eventId)}, r.user_id, 'password_reset_requested', ${int(now)}, ${text(meta.ip)}, ${text(meta.userAgent)}, null
      from email_tokens r where r.id = ${tokenId}`.execute(t.db);
  });
}

/**
 * "This wasn't me" made the next login a reset: the link goes to the account's address (within
 * the same limit of 3 an hour) from inside the refused login.
 */
export async function sendRequiredResetLink(ctx: Context, user: User, meta: RequestMeta): Promise<void> {
  const now = ctx.clock.now();
  if ((await countRecentTokens(ctx.db, user.id, 'password_reset', now - HOUR)) >= RESETS_PER_HOUR) return;
  const tok = newEmailToken('password_reset', ctx.clock, ctx.random);
  await inTransaction(ctx, async (t) => {
    await t.db
      .insertInto('email_tokens')
      .values({ id: randomId(t.random), token_hash: tok.tokenHash, user_id: user.id, purpose: 'password_reset', email: user.email, created_at: tok.createdAt, expires_at: tok.expiresAt })
      .execute();
    await enqueueMail(t, {
      userId: user.id,
      kind: 'password_reset',
      to: user.email,
      content: passwordResetMessage(siteOf(t), { url: linkTo(t, '/password/reset', tok.token), event: { at: now, ip: meta.ip, userAgent: meta.userAgent }, required: true }),
    });
    await logEvent(t, user.id, 'password_reset_required', meta);
  });
}

export const passwordResetRequired = () =>
  new AppError(403, 'password_reset_required', 'For your security, choose a new password before you sign in. We sent a link to your email address.');

/** What the reset page needs to know about a link before the person fills it in. */
export interface ResetLink {
  token: EmailToken;
  user: User;
  twoFactor: { enabled: boolean; totp: boolean; recoveryCodes: boolean; securityKeys: boolean };
}

/** Finds a live reset link (not used, not expired, not older than the last password change). */
export async function openResetLink(ctx: Context, token: string): Promise<ResetLink> {
  if (!isTokenShaped(token)) throw invalidToken();
  const found = await findEmailToken(ctx.db, hashToken(token), ['password_reset']);
  const user = found ? await findUserById(ctx.db, found.userId) : null;
  if (!found || !user || tokenProblem(found, ctx.clock.now(), user.passwordChangedAt)) throw invalidToken();
  const status = await twoFactorStatus(ctx.db, user.id);
  return {
    token: found,
    user,
    twoFactor: { enabled: isTwoFactorEnabled(status), totp: status.totp, recoveryCodes: status.recoveryCodesRemaining > 0, securityKeys: status.securityKeys > 0 },
  };
}

export interface ResetInput {
  token: string;
  password: string;
  method?: GuessableMethod | 'webauthn' | undefined;
  code?: string | undefined;
  /** The security key's WebAuthn answer, with method 'webauthn'. */
  response?: unknown;
}

/**
 * POST /password/reset. Order matters: the link is checked (not consumed), the new password is
 * checked, the second factor is verified under the account's lock; only then, in one transaction,
 * is the link consumed and everything changed.
 */
export async function resetPassword(ctx: Context, input: ResetInput, meta: RequestMeta): Promise<{ userId: string }> {
  const link = await openResetLink(ctx, input.token);
  const userId = link.user.id;
  checkNewPassword(input.password);
  if (link.twoFactor.enabled) {
    if (input.method === 'webauthn') {
      if (input.response === undefined) throw new AppError(400, 'second_factor_required', 'Use your security key to confirm it is you.');
      await verifyResetKey(ctx, link, input.response, meta);
    } else {
      if (!input.method || input.code === undefined || input.code === '') {
        throw new AppError(400, 'second_factor_required', 'This account has two-factor authentication: also enter a code from your authenticator app, or a recovery code.', {}, 'code');
      }
      const available = input.method === 'totp' ? link.twoFactor.totp : link.twoFactor.recoveryCodes;
      if (!available) throw new AppError(400, 'method_not_available', input.method === 'totp' ? 'This account has no authenticator app.' : 'This account has no recovery codes left.');
      try {
        await verifyGuessable(ctx, userId, input.method, input.code, meta);
      } catch (err) {
        await logEvent(ctx, userId, 'password_reset_refused', meta, { reason: err instanceof AppError ? err.code : 'error' });
        throw err;
      }
    }
  }
  // Hashed before the transaction: SQLite's one connection is held while it is open.
  const hash = await hashPassword(input.password);
  await inTransaction(ctx, async (t) => {
    const now = t.clock.now();
    if (!(await consumeEmailToken(t.db, link.token.id, now, link.user.passwordChangedAt))) throw invalidToken();
    await updatePasswordHash(t.db, userId, hash, now);
    // Whoever asked for the link read the mail of this address: it counts as verified.
    await markEmailVerified(t.db, userId, now);
    await setPasswordResetRequired(t.db, userId, null);
    await retireTokens(t.db, userId, ['password_reset'], now);
    await endEverySession(t, userId, meta, { because: 'password_reset' });
    await logEvent(t, userId, 'password_reset', meta, link.twoFactor.enabled ? { method: input.method! } : {});
  });
  return { userId };
}
