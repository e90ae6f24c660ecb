import { STATUS_CODES } from 'node:http';
import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import pino from 'pino';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import type { Context } from '../service/context.js';
import { fastifyTrustProxy } from '../core/trust-proxy.js';
import { AppError } from '../service/errors.js';
import { apiPlugin } from './api/index.js';
import { authzPlugin } from './authz/index.js';
import { authGuard } from './auth.js';
import { refuseNulBytes } from './bad-input.js';
import { logIfServerError, normalizeError, sendJsonError } from './errors.js';
import { isProviderPath, oidcPlugin } from './oidc/index.js';
import { originGuard } from './origin.js';
import { pagesPlugin } from './pages/index.js';
import { securityHeaderSets, type HeaderKind } from './security-headers.js';
import { installMetrics } from './metrics-server.js';
import { lazySerializers, lazyValidators } from './lazy-schemas.js';
import { sharedRateLimitStore } from './rate-limit/shared-store.js';
import { isJsonPath, NOT_FOUND, sendPageError } from './pages/errors.js';
import { ErrorBody, type App } from './schemas.js';

export const BODY_LIMIT = 64 * 1024;

export interface ServerOptions {
  /** pino options, or false for silence (tests). */
  logger?: FastifyServerOptions['logger'];
}

/** Paths whose values must never reach a log line, whatever logs them. */
export const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.code',
  '*.secret',
  '*.token',
  '*.recoveryCodes',
];

/** Links from mail carry their single-use token in the query: it never reaches a log line. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/** Which security headers an answer gets (security-headers.ts): by path, known before routing. */
export function headerKindOf(url: string): HeaderKind {
  if (url.startsWith('/authz/')) return 'none';
  return isJsonPath(url) ? 'api' : 'page';
}

type LogStream = ReturnType<typeof pino.destination>;

/** A stream already ended at exit has nothing left to write; that is no error. */
function flushQuietly(flush: () => void): void {
  try {
    flush();
  } catch {
    // destroyed: pino flushed and ended it at exit
  }
}

/**
 * Log lines go to stdout in 4 KiB writes rather than one write(2) each: a line per request written
 * on its own cost the session check a sixth of its time. What is buffered is written within a
 * second, at close, and on any exit (pino flushes its own stream then, a crash included).
 */
function bufferedLogStream(): LogStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => flushQuietly(() => stream.flush()), 1000).unref();
  stream.once('close', () => clearInterval(timer));
  return stream;
}

export async function buildServer(ctx: Context, opts: ServerOptions = {}): Promise<App> {
  let logStream: LogStream | undefined;
  const app = Fastify({
    logger: opts.logger ?? { level: ctx.config.logLevel, redact: REDACT, stream: (logStream = bufferedLogStream()) },
    // One log line per request comes from the onResponse hook below, not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: fastifyTrustProxy(ctx.config.trustProxy),
    // A request that reaches the server while it closes is still answered (with Connection: close):
    // it was sent before its client could know, and answering it costs less than a retry.
    return503OnClosing: false,
    // On close, sockets with no request in flight are closed at once; busy ones end after their answer.
    forceCloseConnections: 'idle',
    // Node's own refusals before any route runs (headers or URL over 16 KiB, a malformed request
    // line) in the error shape of SPEC §5 too, not Fastify's default body.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy(err);
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const code = status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request';
      const message =
        status === 431 ? 'The request headers or address are too long.' : status === 408 ? 'The request took too long to arrive.' : 'The request could not be read.';
      const body = JSON.stringify({ error: { code, message } });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
    // The router's own refusals (an over-long path part, a malformed URL) in the error shape of SPEC §5.
    frameworkErrors: (err, _request, reply) => {
      void sendJsonError(reply, normalizeError(err));
    },
    ajv: {
      // Unknown fields are refused, not silently dropped, and "123" is not a number.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
    schemaController: { compilersFactory: { buildValidator: lazyValidators, buildSerializer: lazySerializers } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.removeContentTypeParser('text/plain');
  app.addSchema(ErrorBody);

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  // Shutdown (SIGTERM): once close begins, every answer still going out tells its client to close the
  // connection, so Node ends each socket after its response instead of holding it open for the
  // keep-alive timeout (which kept the process alive for 75 s) or closing it under a client's reuse.
  let closing = false;
  // Requests being answered: close waits for them before Fastify closes the idle sockets, since on
  // Node 20 closing "idle" connections also reset sockets whose request was still being answered.
  let inFlight = 0;
  const headerSets = securityHeaderSets(ctx.config);
  // First hook: every answer, also an early error, carries the security headers of its kind. The
  // per-request hooks are callback-style and few: each async hook costs the session check a promise.
  app.addHook('onRequest', (request, reply, done) => {
    inFlight++;
    const kind = headerKindOf(request.url);
    if (kind !== 'none') reply.headers(headerSets[kind]);
    done();
  });

  let redis: import('ioredis').Redis | undefined;
  if (ctx.config.redisUrl) {
    const { Redis } = await import('ioredis');
    // A Redis that is down or slow must not hold requests: commands fail fast and the limit falls
    // back to this node's own count.
    redis = new Redis(ctx.config.redisUrl, { connectTimeout: 2000, commandTimeout: 500, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    redis.on('error', (err) => app.log.warn({ err: err.message }, 'redis unavailable; per-IP limits are counted per node'));
    app.addHook('onClose', async () => {
      redis?.disconnect();
    });
    // Counting starts shared when Redis is there; if it is not, start anyway and count per node.
    const r = redis;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      const done = () => {
        clearTimeout(t);
        r.off('ready', done).off('error', done);
        resolve();
      };
      r.once('ready', done).once('error', done);
    });
  }
  const perIpStore = sharedRateLimitStore({ redis, prefix: 'twofold-rl:' });
  await app.register(rateLimit, {
    global: false,
    // The store never fails (it falls back to memory), so nothing is ever let through unlimited.
    skipOnError: false,
    // One bucket per IP for all password and code routes together, whichever route is called.
    store: function SharedStore() {
      return perIpStore;
    } as unknown as FastifyRateLimitStoreCtor,
    errorResponseBuilder: (_req, context) =>
      new AppError(429, 'rate_limited', `Too many requests from your address. Try again in ${Math.ceil(context.ttl / 1000)} seconds.`, {
        'retry-after': String(Math.ceil(context.ttl / 1000)),
      }),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Twofold API', version: '1', description: 'Login with two-factor authentication. Authentication is the session cookie.' },
      servers: [{ url: ctx.config.publicOrigin }],
      components: {
        securitySchemes: {
          cookieAuth: { type: 'apiKey', in: 'cookie', name: 'twofold_session', description: 'The session cookie (`__Host-twofold_session` under https)' },
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin token from `twofold tokens create` (/api/v1/admin only)' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    // The document describes the JSON API only; the HTML pages (forms, redirects) are not part of it.
    transform: ({ schema, url }) => ({ schema: url.startsWith('/api/v1/') ? schema : { ...schema, hide: true }, url }),
  });

  app.addHook('onClose', (_app, done) => {
    const stream = logStream;
    if (stream) flushQuietly(() => stream.flushSync());
    done();
  });
  await installMetrics(app, ctx);
  app.addHook('onRequestAbort', (_request, done) => {
    inFlight--;
    done();
  });
  app.addHook('preClose', async () => {
    closing = true;
    const deadline = Date.now() + 7_000;
    while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    // A forward-auth answer other than an allow (a refusal, a redirect to sign in, an error) may
    // reach a browser through the proxy: it carries the JSON answers' headers.
    if (reply.statusCode !== 200 && headerKindOf(request.url) === 'none') reply.headers(headerSets.api);
    done(null, payload);
  });

  app.addHook('onRequest', originGuard(ctx.config.publicOrigin, isProviderPath));
  app.addHook('preValidation', refuseNulBytes);
  app.addHook('preHandler', authGuard(ctx));

  // One line per request. Its fields are fixed and hold nothing secret (the URL's mail token is cut
  // out), so it skips the redaction every other line goes through: a quarter of the line's cost.
  const accessLog = app.log.child({}, { redact: [] });
  app.addHook('onResponse', (request, reply, done) => {
    inFlight--;
    // A forward-auth allow is a line in the proxy's own access log already, once per protected
    // request: here it is a debug line; denials and sign-in redirects stay at info.
    const level = reply.statusCode === 200 && request.url.startsWith('/authz/') ? 'debug' : 'info';
    accessLog[level](
      { reqId: request.id, method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ip: request.ip },
      'request',
    );
    done();
  });

  // The API and /healthz answer errors in JSON; every other path is a page and gets an HTML page.
  app.setErrorHandler(async (err, request, reply) => {
    const n = normalizeError(err);
    logIfServerError(request, n, err);
    return isJsonPath(request.url) ? sendJsonError(reply, n) : sendPageError(request, reply, n);
  });
  app.setNotFoundHandler(async (request, reply) =>
    isJsonPath(request.url)
      ? sendJsonError(reply, { status: 404, code: 'not_found', message: 'There is nothing at this address.', headers: {} })
      : sendPageError(request, reply, NOT_FOUND),
  );

  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    await sql`select 1`.execute(ctx.db);
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });

  await app.register(apiPlugin, { prefix: '/api/v1', ctx });

  await app.register(authzPlugin, { ctx });

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(pagesPlugin, { ctx });

  await app.register(oidcPlugin, { ctx });

  return app;
}
