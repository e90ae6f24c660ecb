import { Type } from '@sinclair/typebox';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { listEvents } from '../../store/security-log.js';
import { authOf } from '../auth.js';
import { errors, SecurityEvent, SecurityLogQuery, type App } from '../schemas.js';

/** Beyond any time a Date can hold: refused rather than handed to the database. */
const MAX_TIME_MS = 8.64e15;

function parseBefore(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_TIME_MS) {
    throw new AppError(400, 'invalid_request', '`before` must be an ISO 8601 time or epoch milliseconds.');
  }
  return ms;
}

export function securityLogRoutes(app: App, ctx: Context): void {
  app.get(
    '/me/security-log',
    {
      config: { auth: 'user' },
      schema: {
        summary: 'Security events of the account, newest first, one page',
        description:
          'Pass the `at` of the last event as `before` to get the next page. A page never ends inside a millisecond: events sharing the last time all come on that page, which may then hold a few more than `limit`.',
        tags: ['account'],
        querystring: SecurityLogQuery,
        response: { 200: Type.Array(SecurityEvent), ...errors(400, 401) },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
      if (limit < 1 || limit > 100) throw new AppError(400, 'invalid_request', '`limit` must be from 1 to 100.');
      const events = await listEvents(ctx.db, authOf(request).session.userId, limit, parseBefore(request.query.before));
      return events.map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
    },
  );
}
