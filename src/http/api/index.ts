import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import type { App } from '../schemas.js';
import { accountRoutes } from './accounts.js';
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
  app.addHook('onRequest', async (request) => {
    const hasBody = request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0';
    if ((hasBody || request.headers['transfer-encoding']) && !/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      throw new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
    }
  });

  // A route that takes no body refuses one with content (SPEC §3: unknown fields get a 4xx and
  // change nothing), instead of acting while ignoring what the client sent. `{}` is harmless.
  app.addHook('preValidation', async (request) => {
    const body: unknown = request.body;
    if (request.routeOptions.schema?.body !== undefined || body === undefined || body === null) return;
    if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
    throw new AppError(400, 'invalid_request', 'This request takes no body.');
  });

  accountRoutes(app, ctx, authRateLimit);
  securityLogRoutes(app, ctx);
  twoFactorRoutes(app, ctx, authRateLimit);
  securityKeyRoutes(app, ctx, authRateLimit);
  mailRoutes(app, ctx, authRateLimit);
  passkeyRoutes(app, ctx, authRateLimit);

  // Answers here can carry secrets and codes; no cache may keep them.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
}
