import { parseEmail } from '../../core/email.js';
import { tokenProblem } from '../../core/email-token.js';
import { hashToken, isTokenShaped } from '../../core/token.js';
import { consumeEmailToken, findEmailToken, latestTokenAt, retireTokens } from '../../store/email-tokens.js';
import { changeUserEmail, EmailTakenError, findUserByEmail, findUserById, markEmailVerified, type User } from '../../store/users.js';
import type { Context, RequestMeta } from '../context.js';
import { AppError } from '../errors.js';
import { logEvent } from '../security-log.js';
import { inTransaction } from '../transaction.js';
import { enqueueMail } from './outbox.js';
import { issueLinkToken, linkTo, notify, siteOf } from './notify.js';
import { changeEmailMessage, verifyEmailMessage } from './templates.js';

/*
 * Email verification and change of address (SPEC §7). Both send a link to the address to be
 * proven; opening it (signed in or not) proves it. A change takes effect only then, and the old
 * address is told.
 */

export const RESEND_INTERVAL_MS = 60_000;

export const invalidToken = () =>
  new AppError(400, 'invalid_token', 'This link is not valid any more: it was used already, it expired, or it was replaced by a newer one. Ask for a new link.');

export const emailTaken = () => new AppError(409, 'email_taken', 'Another account already uses this email address.', {}, 'email');

/** Queues "Confirm your email address" in the caller's transaction (signup, resend). */
export async function queueVerification(t: Context, user: Pick<User, 'id' | 'email'>): Promise<void> {
  const token = await issueLinkToken(t, { userId: user.id, purpose: 'verify_email', email: user.email });
  await enqueueMail(t, { userId: user.id, kind: 'verify_email', to: user.email, content: verifyEmailMessage(siteOf(t), { email: user.email, url: linkTo(t, '/email/verify', token) }) });
}

/** POST /me/email/verification: at most once a minute; refused when already verified. */
export async function resendVerification(ctx: Context, userId: string, meta: RequestMeta): Promise<void> {
  const user = await findUserById(ctx.db, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'You are not signed in.');
  if (user.emailVerifiedAt != null) throw new AppError(409, 'already_verified', 'Your email address is already confirmed.');
  const last = await latestTokenAt(ctx.db, userId, 'verify_email');
  const now = ctx.clock.now();
  if (last !== null && now - last < RESEND_INTERVAL_MS) {
    const wait = Math.max(1, Math.ceil((last + RESEND_INTERVAL_MS - now) / 1000));
    throw new AppError(429, 'too_many_requests', `A confirmation message was sent less than a minute ago. Check your inbox, or try again in ${wait} seconds.`, { 'retry-after': String(wait) });
  }
  await inTransaction(ctx, async (t) => {
    await queueVerification(t, user);
    await logEvent(t, userId, 'email_verification_sent', meta);
  });
}

export type VerifyOutcome = { kind: 'verified'; email: string } | { kind: 'changed'; email: string };

/**
 * GET /email/verify: a verification link or a change-of-address link. The token is consumed in the
 * same transaction as the change, so a refused request (unknown, used, expired, address taken)
 * changes and consumes nothing.
 */
export async function openEmailLink(ctx: Context, token: string, meta: RequestMeta): Promise<VerifyOutcome> {
  if (!isTokenShaped(token)) throw invalidToken();
  const found = await findEmailToken(ctx.db, hashToken(token), ['verify_email', 'change_email']);
  const now = ctx.clock.now();
  if (tokenProblem(found, now) || !found || !found.email) throw invalidToken();
  const user = await findUserById(ctx.db, found.userId);
  if (!user) throw invalidToken();
  if (found.purpose === 'verify_email') {
    // A link for an address the account no longer has proves nothing about the current one.
    if (found.email.toLowerCase() !== user.emailNormalized) throw invalidToken();
    await inTransaction(ctx, async (t) => {
      if (!(await consumeEmailToken(t.db, found.id, now))) throw invalidToken();
      await markEmailVerified(t.db, user.id, now);
      await logEvent(t, user.id, 'email_verified', meta);
    });
    return { kind: 'verified', email: user.email };
  }
  const next = parseEmail(found.email);
  if (!next) throw invalidToken();
  if (next.normalized === user.emailNormalized) throw invalidToken();
  const taken = await findUserByEmail(ctx.db, next.normalized);
  if (taken && taken.id !== user.id) throw emailTaken();
  try {
    await inTransaction(ctx, async (t) => {
      if (!(await consumeEmailToken(t.db, found.id, now))) throw invalidToken();
      await changeUserEmail(t.db, user.id, next, now);
      // Links sent to the old address must not confirm it again or change it back.
      await retireTokens(t.db, user.id, ['verify_email', 'change_email', 'password_reset'], now);
      await logEvent(t, user.id, 'email_changed', meta);
      await notify(t, { userId: user.id, kind: 'email_changed', meta, detail: { newEmail: next.display }, to: user.email });
    });
  } catch (err) {
    if (err instanceof EmailTakenError) throw emailTaken();
    throw err;
  }
  return { kind: 'changed', email: next.display };
}

/** POST /me/email (fresh): a link to the new address; nothing changes until it is opened. */
export async function requestEmailChange(ctx: Context, userId: string, input: string, meta: RequestMeta): Promise<{ email: string }> {
  const next = parseEmail(input);
  if (!next) throw new AppError(400, 'invalid_email', 'Enter a valid email address, like name@example.com.', {}, 'email');
  const user = await findUserById(ctx.db, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'You are not signed in.');
  if (next.normalized === user.emailNormalized) throw new AppError(400, 'same_email', 'That is already your email address.', {}, 'email');
  const taken = await findUserByEmail(ctx.db, next.normalized);
  if (taken) throw emailTaken();
  await inTransaction(ctx, async (t) => {
    const token = await issueLinkToken(t, { userId, purpose: 'change_email', email: next.display });
    await enqueueMail(t, {
      userId,
      kind: 'change_email',
      to: next.display,
      content: changeEmailMessage(siteOf(t), { newEmail: next.display, url: linkTo(t, '/email/verify', token) }),
    });
    await logEvent(t, userId, 'email_change_requested', meta);
  });
  return { email: next.display };
}
