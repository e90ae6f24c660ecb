import { Type } from '@sinclair/typebox';
import { countLogin } from '../../service/metrics.js';
import { login, logout, signup } from '../../service/accounts.js';
import type { Context } from '../../service/context.js';
import { isTwoFactorEnabled, methodsOf } from '../../store/two-factor-status.js';
import { authOf, loadAuth } from '../auth.js';
import { clearCookie, cookieNames, readCookie, setCookie } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import { Credentials, errors, LoginAnswer, Me, NewAccount, UserRef, type App } from '../schemas.js';
import { PENDING_LOGIN_MS } from '../../core/session.js';
import { applyLoginCookies } from './two-factor.js';

export function accountRoutes(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);

  app.post(
    '/signup',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'Create an account and sign in',
        tags: ['account'],
        body: NewAccount,
        response: { 201: Type.Object({ user: UserRef }), ...errors(400, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const previous = await loadAuth(ctx, request);
      const { user, token } = await signup(ctx, request.body, requestMeta(request), previous?.session.id);
      setCookie(reply, ctx.config, names.session, token, ctx.config.sessionMaxMs);
      return reply.code(201).send({ user: { id: user.id, email: user.email } });
    },
  );

  app.post(
    '/login',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'Password step of a login',
        description: 'With two-factor authentication on and no trusted device, the session is pending until POST /login/two-factor.',
        tags: ['login'],
        body: Credentials,
        response: { 200: LoginAnswer, ...errors(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const previous = await loadAuth(ctx, request);
      const result = await countLogin(
        login(ctx, request.body, requestMeta(request), {
          replaces: previous?.session.id,
          deviceToken: readCookie(request, names.device),
        }),
      );
      if (result.status === 'two_factor_required') {
        setCookie(reply, ctx.config, names.session, result.token, PENDING_LOGIN_MS);
        return { status: result.status, methods: result.methods };
      }
      applyLoginCookies(reply, ctx, result);
      return { status: 'ok' as const, ...(result.accountRecovered ? { accountRecovered: true as const } : {}) };
    },
  );

  app.post(
    '/logout',
    { schema: { summary: 'End the session on the server', tags: ['login'], response: { 204: Type.Null() } } },
    async (request, reply) => {
      const auth = await loadAuth(ctx, request);
      if (auth) await logout(ctx, auth.session, requestMeta(request));
      clearCookie(reply, ctx.config, names.session);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      config: { auth: 'user', sessionAccount: true },
      schema: { summary: 'The signed-in account', tags: ['account'], response: { 200: Me, ...errors(401) } },
    },
    async (request) => {
      // The session check read it all in its one query (`sessionAccount`, whoever resolved it first).
      const { session, email, account, groups } = authOf(request);
      if (!account || !groups) throw new Error('GET /me: the session was resolved without its account');
      const status = account.twoFactor;
      return {
        id: session.userId,
        email,
        emailVerified: account.emailVerified,
        twoFactor: { enabled: isTwoFactorEnabled(status), methods: methodsOf(status), recoveryCodesRemaining: status.recoveryCodesRemaining },
        groups,
      };
    },
  );
}
