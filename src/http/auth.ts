import type { FastifyReply, FastifyRequest } from 'fastify';
import { isFresh } from '../core/session.js';
import type { Context } from '../service/context.js';
import { AppError, reauthenticationRequired, unauthenticated } from '../service/errors.js';
import { resolveSession, type ActiveSession } from '../service/sessions.js';
import { cookieNames, readCookie } from './cookies.js';

/**
 * What a route needs from the session cookie:
 * - `none`: nothing (the session is still resolved lazily when asked for)
 * - `user`: a fully signed-in session
 * - `fresh`: a signed-in session whose last full authentication is under 10 minutes old
 * - `pending`: a login waiting for its second factor
 * - `any`: either (a person in account recovery can only get as far as a pending login)
 */
export type AuthRequirement = 'none' | 'user' | 'fresh' | 'pending' | 'any';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
    /** The route shows the account (GET /me): the session check reads it in its one query. */
    sessionAccount?: boolean;
  }
  interface FastifyRequest {
    /** undefined until looked up; null when there is no live session. */
    authCache: ActiveSession | null | undefined;
  }
}

export async function loadAuth(ctx: Context, request: FastifyRequest): Promise<ActiveSession | null> {
  if (request.authCache === undefined) {
    const account = request.routeOptions.config.sessionAccount === true;
    request.authCache = await resolveSession(ctx, readCookie(request, cookieNames(ctx.config).session), account ? { account } : {});
  }
  return request.authCache;
}

export const noPendingLogin = () =>
  new AppError(401, 'no_pending_login', 'Your login has expired or was not started. Log in again with your email and password.');

export function authGuard(ctx: Context) {
  const check = async (request: FastifyRequest, need: Exclude<AuthRequirement, 'none'>): Promise<void> => {
    const auth = await loadAuth(ctx, request);
    if (need === 'pending') {
      if (!auth || !auth.session.pending) throw noPendingLogin();
      return;
    }
    if (need === 'any') {
      if (!auth) throw unauthenticated();
      return;
    }
    if (!auth || auth.session.pending) throw unauthenticated();
    if (need === 'fresh' && !isFresh(auth.session, ctx.policy, ctx.clock.now())) throw reauthenticationRequired();
  };
  // Callback-style: a route that needs no session (forward auth, pages, assets) passes through
  // without a promise of its own.
  return function guard(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    const need = request.routeOptions.config.auth ?? 'none';
    if (need === 'none') return done();
    check(request, need).then(() => done(), done);
  };
}

/** For handlers behind a guard: the session the guard already checked. */
export function authOf(request: FastifyRequest): ActiveSession {
  if (!request.authCache) throw unauthenticated();
  return request.authCache;
}
