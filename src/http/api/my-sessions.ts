import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { deleteMyAccount } from '../../service/account-deletion.js';
import type { Context } from '../../service/context.js';
import { listMySessions, revokeMySession, revokeOtherSessions } from '../../service/my-sessions.js';
import { twoFactorDemandOf, twoFactorSetupRequired } from '../../service/require-two-factor.js';
import { authOf } from '../auth.js';
import { clearCookie, cookieNames } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import { errors, Obj, Password, type App } from '../schemas.js';

export const SessionView = Type.Object({
  id: Type.String(),
  current: Type.Boolean({ description: 'the session making this request' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  browser: Type.Union([Type.String(), Type.Null()], { description: 'from the user agent, e.g. "Firefox 133"' }),
  os: Type.Union([Type.String(), Type.Null()], { description: 'from the user agent, e.g. "Windows"' }),
});

/** What a signed-in account without 2FA may still reach once a required-2FA grace period is over (SPEC §9). */
const SETUP_ROUTES = new Set([
  'GET /api/v1/me',
  'POST /api/v1/logout',
  'POST /api/v1/me/reauthenticate',
  'POST /api/v1/me/two-factor/totp/setup',
  'POST /api/v1/me/two-factor/totp/confirm',
  'POST /api/v1/me/security-keys/options',
  'POST /api/v1/me/security-keys',
  'POST /api/v1/me/passkeys/options',
  'POST /api/v1/me/passkeys',
]);

/** 403 `two_factor_setup_required` for every signed-in API route but /me, setup and logout, after the grace period. */
export function requireTwoFactorApiGuard(ctx: Context) {
  return async function guard(request: FastifyRequest): Promise<void> {
    if (ctx.config.requireTwoFactor.kind === 'off') return;
    const auth = request.authCache;
    if (!auth || auth.session.pending) return;
    if (SETUP_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`)) return;
    if ((await twoFactorDemandOf(ctx, auth.session.userId)).state === 'required') throw twoFactorSetupRequired();
  };
}

export function mySessionRoutes(app: App, ctx: Context): void {
  const names = cookieNames(ctx.config);

  app.get(
    '/me/sessions',
    {
      config: { auth: 'user' },
      schema: {
        summary: 'The account’s signed-in sessions',
        description: 'This session first, then the others by last activity. Browser and system are read from the user agent.',
        tags: ['sessions'],
        response: { 200: Type.Array(SessionView), ...errors(401, 403) },
      },
    },
    async (request) => listMySessions(ctx, authOf(request).session),
  );

  app.delete(
    '/me/sessions/:id',
    {
      config: { auth: 'user' },
      schema: {
        summary: 'Sign out one session',
        description: 'Any id that is not one of this account’s live sessions answers 404. Ending the current session signs this client out.',
        tags: ['sessions'],
        params: Obj({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { wasCurrent } = await revokeMySession(ctx, authOf(request).session, request.params.id, requestMeta(request));
      if (wasCurrent) clearCookie(reply, ctx.config, names.session);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/me/sessions/revoke-others',
    {
      config: { auth: 'user' },
      schema: { summary: 'Sign out every other session', tags: ['sessions'], response: { 204: Type.Null(), ...errors(401, 403) } },
    },
    async (request, reply) => {
      await revokeOtherSessions(ctx, authOf(request).session, requestMeta(request));
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/me',
    {
      config: { auth: 'fresh' },
      schema: {
        summary: 'Delete the account',
        description: 'Needs the password and a fresh authentication. Everything of the account is removed; this client is signed out.',
        tags: ['account'],
        body: Obj({ password: Password }),
        response: { 204: Type.Null(), ...errors(400, 401, 403) },
      },
    },
    async (request, reply) => {
      await deleteMyAccount(ctx, authOf(request).session.userId, request.body.password, requestMeta(request));
      clearCookie(reply, ctx.config, names.session);
      clearCookie(reply, ctx.config, names.device);
      return reply.code(204).send(null);
    },
  );
}
