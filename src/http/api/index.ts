import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import type { App } from '../schemas.js';
import { accountRecoveryRoutes } from './account-recovery.js';
import { accountRoutes } from './accounts.js';
import { mySessionRoutes, requireTwoFactorApiGuard } from './my-sessions.js';
import { adminApi } from '../admin/api.js';
import { mailRoutes } from './mail.js';
import { passkeyRoutes } from './passkeys.js';
import { securityKeyRoutes } from './security-keys.js';
import { securityLogRoutes } from './security-log.js';
import { twoFactorRoutes } from './two-factor.js';

/** The JSON API under /api/v1. Each feature adds its routes here. */
export async function apiPlugin(app: App, opts: { ctx: Context }): Promise<void> {
  const { ctx } = opts;
  const authRateLimit = { max: ctx.config.authRateLimit, timeWindow: 60_000 };

  // The API speaks JSON only: a form-encoded POST here is a confused client or a cross-site form.
  app.addHook('onRequest', (request, _reply, done) => {
    const hasBody = request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0';
    if ((hasBody || request.headers['transfer-encoding']) && !/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      return done(new AppError(415, 'unsupported_media_type', 'Send the body as application/json.'));
    }
    done();
  });

  // A route that takes no body refuses one with content (SPEC §3: unknown fields get a 4xx and
  // change nothing), instead of acting while ignoring what the client sent. `{}` is harmless.
  app.addHook('preValidation', (request, _reply, done) => {
    const body: unknown = request.body;
    if (body === undefined || body === null || request.routeOptions.schema?.body !== undefined) return done();
    if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return done();
    done(new AppError(400, 'invalid_request', 'This request takes no body.'));
  });

  // Runs after the session guard: a signed-in account past its required-2FA grace reaches only setup.
  if (ctx.config.requireTwoFactor.kind !== 'off') app.addHook('preHandler', requireTwoFactorApiGuard(ctx));

  accountRoutes(app, ctx, authRateLimit);
  securityLogRoutes(app, ctx);
  twoFactorRoutes(app, ctx, authRateLimit);
  securityKeyRoutes(app, ctx, authRateLimit);
  mySessionRoutes(app, ctx);
  await app.register(adminApi, { prefix: '/admin', ctx });
  mailRoutes(app, ctx, authRateLimit);
  passkeyRoutes(app, ctx, authRateLimit);
  accountRecoveryRoutes(app, ctx, authRateLimit);

}
