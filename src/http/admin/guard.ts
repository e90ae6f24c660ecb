import type { FastifyRequest } from 'fastify';
import { isFresh } from '../../core/session.js';
import { isAdmin } from '../../service/account-groups.js';
import type { Actor } from '../../service/admin/actions.js';
import { verifyAdminToken } from '../../service/admin/tokens.js';
import type { Context } from '../../service/context.js';
import { AppError, reauthenticationRequired, unauthenticated } from '../../service/errors.js';
import { twoFactorSetupRequired } from '../../service/require-two-factor.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { loadAuth } from '../auth.js';
import { requestMeta } from '../request-meta.js';

export const forbidden = () => new AppError(403, 'forbidden', 'Only administrators can do this.');

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin guard on /api/v1/admin and /admin. */
    adminActor?: Actor;
  }
}

/**
 * Who may use the admin functions (SPEC §9): a member of `admins` with 2FA on and a fresh
 * authentication, or the holder of a live admin token. Returns the actor for the audit log.
 * A bearer token never falls back to the cookie: a bad token is 401 even with a session present.
 */
export async function adminActor(ctx: Context, request: FastifyRequest, opts: { bearer: boolean }): Promise<Actor> {
  const meta = requestMeta(request);
  const header = request.headers.authorization;
  if (opts.bearer && header !== undefined) {
    const m = /^Bearer ([^\s]+)$/i.exec(header);
    const token = m ? await verifyAdminToken(ctx, m[1]!) : null;
    if (!token) throw new AppError(401, 'unauthenticated', 'The admin token is not valid, or was revoked.', { 'www-authenticate': 'Bearer' });
    return { kind: 'token', name: `token ${token.name} (${token.id})`, meta };
  }
  const auth = await loadAuth(ctx, request);
  if (!auth || auth.session.pending) throw unauthenticated();
  if (!(await isAdmin(ctx, auth.session.userId))) throw forbidden();
  if (!isTwoFactorEnabled(await twoFactorStatus(ctx.db, auth.session.userId))) throw twoFactorSetupRequired();
  if (!isFresh(auth.session, ctx.policy, ctx.clock.now())) throw reauthenticationRequired();
  return { kind: 'session', name: auth.email, meta };
}

export function actorOf(request: FastifyRequest): Actor {
  if (!request.adminActor) throw unauthenticated();
  return request.adminActor;
}
