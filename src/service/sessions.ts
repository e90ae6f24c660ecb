import type { AmrValue } from '../core/amr.js';
import { createSession, isSessionExpired, needsTouch, type Session } from '../core/session.js';
import { hashToken, isTokenShaped } from '../core/token.js';
import { deleteSession, findSession, insertSession, touchSession } from '../store/sessions.js';
import type { Context, RequestMeta } from './context.js';

export interface ActiveSession {
  session: Session;
  email: string;
  /** Present when resolved with `{ groups: true }`. */
  groups?: string[];
}

/**
 * Turns a cookie token into a live session, or null. One indexed read; a write only when the
 * session expired (deleted) or lastSeenAt is over a minute old.
 */
export async function resolveSession(ctx: Context, token: string | undefined, opts: { groups?: boolean } = {}): Promise<ActiveSession | null> {
  if (!token || !isTokenShaped(token)) return null;
  const found = await findSession(ctx.db, hashToken(token), opts);
  if (!found) return null;
  const now = ctx.clock.now();
  if (isSessionExpired(found.session, ctx.policy, now)) {
    await deleteSession(ctx.db, found.session.id);
    return null;
  }
  if (!found.session.pending && needsTouch(found.session, now)) {
    await touchSession(ctx.db, found.session.id, now);
    found.session.lastSeenAt = now;
  }
  return found;
}

/**
 * Every login step issues a new token and retires the one the browser had, so a token planted
 * before login (session fixation) never becomes an authenticated one.
 */
export async function startSession(
  ctx: Context,
  opts: { userId: string; pending: boolean; fullyAuthenticated: boolean; amr: AmrValue[]; replaces?: string | undefined },
  meta: RequestMeta,
): Promise<{ token: string; session: Session }> {
  if (opts.replaces) await deleteSession(ctx.db, opts.replaces);
  const created = createSession({ userId: opts.userId, pending: opts.pending, fullyAuthenticated: opts.fullyAuthenticated, amr: opts.amr, ip: meta.ip, userAgent: meta.userAgent }, ctx.clock, ctx.random);
  await insertSession(ctx.db, created.session);
  return created;
}
