import { createHash } from 'node:crypto';
import { isSessionExpired, type Session } from '../core/session.js';
import { parseUserAgent } from '../core/user-agent.js';
import { deleteOtherSessions, deleteSessionOf, listUserSessions } from '../store/session-list.js';
import type { Context, RequestMeta } from './context.js';
import { notFound } from './errors.js';
import { logEvent } from './security-log.js';

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
  browser: string | null;
  os: string | null;
}

/**
 * The id a session is shown under: derived from the stored hash rather than the hash itself, so
 * the key the session lookup uses never leaves the server (not even in a URL or a log line).
 */
export function publicSessionId(storedId: string): string {
  return createHash('sha256').update('twofold-session-id:' + storedId).digest('base64url').slice(0, 22);
}

async function liveSessions(ctx: Context, userId: string): Promise<Session[]> {
  const now = ctx.clock.now();
  return (await listUserSessions(ctx.db, userId)).filter((s) => !isSessionExpired(s, ctx.policy, now));
}

export async function listMySessions(ctx: Context, current: Session): Promise<SessionView[]> {
  const sessions = await liveSessions(ctx, current.userId);
  const views = sessions.map((s) => {
    const ua = parseUserAgent(s.userAgent);
    return {
      id: publicSessionId(s.id),
      current: s.id === current.id,
      createdAt: new Date(s.createdAt).toISOString(),
      lastSeenAt: new Date(s.lastSeenAt).toISOString(),
      ip: s.ip,
      userAgent: s.userAgent,
      browser: ua.browser,
      os: ua.os,
    };
  });
  // This session first, then the others by last activity.
  return [...views.filter((v) => v.current), ...views.filter((v) => !v.current)];
}

/** Ends one of the person's own sessions; any other id (another account's, expired, unknown) is 404. */
export async function revokeMySession(ctx: Context, current: Session, id: string, meta: RequestMeta): Promise<{ wasCurrent: boolean }> {
  const target = (await liveSessions(ctx, current.userId)).find((s) => publicSessionId(s.id) === id);
  if (!target || !(await deleteSessionOf(ctx.db, current.userId, target.id))) throw notFound('That session');
  const ua = parseUserAgent(target.userAgent);
  await logEvent(ctx, current.userId, 'session_revoked', meta, { ...(ua.browser ? { browser: ua.browser } : {}), ...(target.ip ? { ip: target.ip } : {}) });
  return { wasCurrent: target.id === current.id };
}

/** Ends every session of the account but this one (trusted devices are kept: they have their own list). */
export async function revokeOtherSessions(ctx: Context, current: Session, meta: RequestMeta): Promise<number> {
  const n = await deleteOtherSessions(ctx.db, current.userId, current.id);
  await logEvent(ctx, current.userId, 'other_sessions_revoked', meta, { count: n });
  return n;
}
