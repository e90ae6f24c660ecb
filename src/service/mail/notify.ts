import { newEmailToken, type EmailTokenPurpose } from '../../core/email-token.js';
import { randomId } from '../../core/random.js';
import { insertEmailToken } from '../../store/email-tokens.js';
import { findUserById } from '../../store/users.js';
import type { Context, RequestMeta } from '../context.js';
import { enqueueMail } from './outbox.js';
import { noticeMessage, type NoticeDetail, type NoticeKind, type Rendered, type Site } from './templates.js';

export function siteOf(ctx: Context): Site {
  return { issuer: ctx.config.issuer, origin: ctx.config.publicOrigin };
}

export function linkTo(ctx: Context, path: string, token: string): string {
  return `${ctx.config.publicOrigin}${path}?token=${encodeURIComponent(token)}`;
}

/** What "This wasn't me" removes: the factor the notice announced as added. */
export type AddedFactor = { factor: 'totp' } | { factor: 'security_key'; name: string };

/** Makes a single-use link token for the account (stored hashed) and returns the token for the link. */
export async function issueLinkToken(
  ctx: Context,
  t: { userId: string; purpose: EmailTokenPurpose; email?: string | null; eventId?: string | null; detail?: Record<string, string> | null },
): Promise<string> {
  const tok = newEmailToken(t.purpose, ctx.clock, ctx.random);
  await insertEmailToken(ctx.db, {
    id: randomId(ctx.random),
    tokenHash: tok.tokenHash,
    userId: t.userId,
    purpose: t.purpose,
    email: t.email ?? null,
    eventId: t.eventId ?? null,
    detail: t.detail ?? null,
    createdAt: tok.createdAt,
    expiresAt: tok.expiresAt,
  });
  return tok.token;
}

export interface Notice {
  userId: string;
  kind: NoticeKind;
  meta: RequestMeta;
  detail?: NoticeDetail;
  /** The security event the notice is about (its "This wasn't me" link is bound to it). */
  eventId?: string | null;
  /** What the event added, removed again by "This wasn't me". */
  added?: AddedFactor;
  /** Another address than the account's (email_changed goes to the old one). */
  to?: string;
}

/**
 * THE way for any feature to tell a person about a security event by email (SPEC §7):
 *
 *     await inTransaction(ctx, async (t) => {
 *       ...the change, on t.db...
 *       await notify(t, { userId, kind: 'admin_action', meta, detail: { action: 'locked your account' } });
 *     });
 *
 * Call it with the context of the transaction that makes the change: the message is queued in the
 * outbox in that transaction (sent only if the change commits, never lost once it has), and the
 * node's delivery worker is nudged after commit. It writes a "This wasn't me" link token bound to
 * the account and to `eventId`; `added` names a factor that link removes. It never puts a code,
 * password or secret in the message — pass only facts (names, counts). Most callers need not call it
 * at all: logEvent() (security-log.ts) notifies for the event types SPEC §7 lists.
 */
export async function notify(ctx: Context, n: Notice): Promise<void> {
  const user = await findUserById(ctx.db, n.userId);
  if (!user) return;
  const secureToken =
    n.kind === 'account_secured'
      ? undefined
      : await issueLinkToken(ctx, { userId: n.userId, purpose: 'secure_account', eventId: n.eventId ?? null, detail: n.added ? { ...n.added } : { kind: n.kind } });
  const content: Rendered = noticeMessage(siteOf(ctx), {
    kind: n.kind,
    email: user.email,
    event: { at: ctx.clock.now(), ip: n.meta.ip, userAgent: n.meta.userAgent },
    detail: n.detail ?? {},
    secureUrl: secureToken ? linkTo(ctx, '/account/secure', secureToken) : undefined,
  });
  await enqueueMail(ctx, { userId: n.userId, kind: n.kind, to: n.to ?? user.email, content });
}
