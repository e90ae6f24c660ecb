import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Decision } from '../../core/access-rules.js';
import { accessRequestOf, authorize } from '../../service/authz.js';
import type { Context } from '../../service/context.js';
import { metrics } from '../../service/metrics.js';
import { cookieNames, readCookie } from '../cookies.js';
import { sendJsonError } from '../errors.js';
import type { App } from '../schemas.js';
import { parseAuthRequest, parseForwardAuth, type Parsed } from './forwarded.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false for routes that a reverse proxy calls with the protected request's method and Origin. */
    originCheck?: boolean;
  }
}

type Flavour = 'forward-auth' | 'auth-request';

/**
 * A header value carries bytes, not text: an address with characters beyond ASCII (which signup
 * accepts) is sent percent-encoded as UTF-8, as in a URL, so that no address can break the answer.
 */
export function headerValue(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : text.replace(/[^\x20-\x7e]+/g, (m) => encodeURIComponent(m));
}

/** The request wants an answer it can read, not a redirect: a fetch/XHR or an API client. */
function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /\bapplication\/json\b/i.test(accept) || String(request.headers['x-requested-with'] ?? '').toLowerCase() === 'xmlhttprequest';
}

export function loginUrl(ctx: Context, original: URL): string {
  return `${ctx.config.publicOrigin}/login?rd=${encodeURIComponent(original.href)}`;
}

function answer(ctx: Context, flavour: Flavour, request: FastifyRequest, reply: FastifyReply, parsed: Extract<Parsed, { ok: true }>['value'], decision: Decision, who: { email: string; groups: string[] } | null) {
  if (decision.result === 'allow') {
    // Only the values of this decision: a proxy copies these to the upstream, never the client's.
    // Empty (not absent) for nobody: some proxies (Caddy 2.6's copy_headers) otherwise pass on a
    // placeholder, or leave the client's own header in place.
    const email = headerValue(who?.email ?? '');
    reply.header('remote-user', email).header('remote-email', email).header('remote-groups', who ? who.groups.join(',') : '');
    return reply.code(200).send();
  }
  if (decision.result === 'forbidden') {
    return sendJsonError(reply, { status: 403, code: 'forbidden', message: 'You are signed in, but this is not open to you.', headers: {} });
  }
  const location = loginUrl(ctx, parsed.url);
  const unauthenticated = { status: 401, code: 'unauthenticated', message: 'Log in to continue.', headers: { location } };
  // nginx turns a 401 into its error_page redirect; it cannot follow a 302 from auth_request.
  if (flavour === 'auth-request' || wantsJson(request)) return sendJsonError(reply, unauthenticated);
  const safe = parsed.method === 'GET' || parsed.method === 'HEAD';
  return reply.redirect(location, safe ? 302 : 303);
}

/**
 * SPEC §8: the endpoints reverse proxies ask about every request to a protected application. They
 * answer any method (nginx asks with the original one), read the session cookie, and are outside
 * the Origin check: a protected app's own form posts carry its Origin, and nothing here changes state.
 */
export async function authzPlugin(app: App, opts: { ctx: Context }): Promise<void> {
  const { ctx } = opts;
  const sessionCookie = cookieNames(ctx.config).session;

  const handler = (flavour: Flavour) =>
    async function decideRequest(request: FastifyRequest, reply: FastifyReply) {
      reply.header('cache-control', 'no-store');
      const parsed = flavour === 'forward-auth' ? parseForwardAuth(request.headers) : parseAuthRequest(request.headers);
      if (!parsed.ok) return sendJsonError(reply, { status: 400, code: 'invalid_forwarded_request', message: parsed.message, headers: {} });
      const started = process.hrtime.bigint();
      const { decision, auth } = await authorize(ctx, readCookie(request, sessionCookie), accessRequestOf(parsed.value.url, parsed.value.method));
      metrics.authzDecision(decision.result === 'allow' ? 'allow' : decision.result === 'forbidden' ? 'deny' : 'login', Number(process.hrtime.bigint() - started) / 1e9);
      request.log.debug({ authz: decision.result, rule: decision.rule, host: parsed.value.url.hostname }, 'authz decision');
      return answer(ctx, flavour, request, reply, parsed.value, decision, auth ? { email: auth.email, groups: auth.groups ?? [] } : null);
    };

  for (const [path, flavour] of [
    ['/authz/forward-auth', 'forward-auth'],
    ['/authz/auth-request', 'auth-request'],
  ] as const) {
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: path,
      exposeHeadRoute: false,
      config: { originCheck: false },
      schema: { hide: true },
      handler: handler(flavour),
    });
  }
}
