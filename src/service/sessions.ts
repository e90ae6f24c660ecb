import type { AmrValue } from '../core/amr.js';
import { createSession, isFresh, isSessionExpired, needsTouch, type Session } from '../core/session.js';
import { hashToken, isTokenShaped } from '../core/token.js';
import { deleteSession, findSession, insertSession, touchSession, type SessionWithUser } from '../store/sessions.js';
import type { Context, RequestMeta } from './context.js';
import { reauthenticationRequired } from './errors.js';

/** A live session as the session check read it (store/sessions.ts findSession). */
export type ActiveSession = SessionWithUser;

/**
 * Turns a cookie token into a live session, or null. One indexed read; a write only when the
 * session expired (deleted) or lastSeenAt is older than the policy's touch interval.
 */
export async function resolveSession(ctx: Context, token: string | undefined, opts: { groups?: boolean; account?: boolean } = {}): Promise<ActiveSession | null> {
  if (!token || !isTokenShaped(token)) return null;
  const found = await findSession(ctx.db, hashToken(token), opts);
  if (!found) return null;
  const now = ctx.clock.now();
  if (isSessionExpired(found.session, ctx.policy, now)) {
    await deleteSession(ctx.db, found.session.id);
    return null;
  }
  if (!found.session.pending && needsTouch(found.session, ctx.policy, now)) {
    await touchSession(ctx.db, found.session.id, now);
    found.session.lastSeenAt = now;
  }
  return found;
}

/**
 * `credentialGeneration` is the one read together with the credential that was checked (the user
 * row with the password hash, or the pending login's): a session granted just before every session
 * of the account was ended is then dead on arrival.
 *
 * Every login step issues a new token and retires the one the browser had, so a token planted
 * before login (session fixation) never becomes an authenticated one.
 */
export async function startSession(
  ctx: Context,
  opts: { userId: string; pending: boolean; fullyAuthenticated: boolean; amr: AmrValue[]; credentialGeneration: number; replaces?: string | undefined },
  meta: RequestMeta,
): Promise<{ token: string; session: Session }> {
  if (opts.replaces) await deleteSession(ctx.db, opts.replaces);
  const created = createSession(
    {
      userId: opts.userId,
      pending: opts.pending,
      fullyAuthenticated: opts.fullyAuthenticated,
      amr: opts.amr,
      ip: meta.ip,
      userAgent: meta.userAgent,
      credentialGeneration: opts.credentialGeneration,
    },
    ctx.clock,
    ctx.random,
  );
  await insertSession(ctx.db, created.session);
  return created;
}

/** What a sensitive change needs to know about the session asking for it. */
export type SessionForChange = Pick<Session, 'id' | 'userId' | 'pending' | 'authenticatedAt'>;

/**
 * SPEC §3: a sensitive change needs a fresh authentication. The routes check it first (to send a
 * page to "Confirm it's you"); the flows check it again, so a route that forgot cannot open a way
 * around it.
 */
export function requireFresh(ctx: Context, session: Pick<Session, 'pending' | 'authenticatedAt'>): void {
  if (!isFresh(session, ctx.policy, ctx.clock.now())) throw reauthenticationRequired();
}
