import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import type { App } from '../schemas.js';
import { accountRoutes } from './accounts.js';
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

  accountRoutes(app, ctx, authRateLimit);
  securityLogRoutes(app, ctx);
  twoFactorRoutes(app, ctx, authRateLimit);

  // Answers here can carry secrets and codes; no cache may keep them.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
}
