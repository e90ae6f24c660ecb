import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../../core/random.js';
import { hashToken, isTokenShaped } from '../../core/token.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { cookieNames, readCookie, setCookie } from '../cookies.js';

/**
 * CSRF protection of the HTML forms (the JSON API relies on the Origin check and JSON-only bodies).
 *
 * Each browser gets a random seed in its own HttpOnly, SameSite=Lax cookie (`__Host-` under https).
 * Forms carry HMAC(seed, session) keyed with the service secret as `_csrf`, where the session is
 * the hash of the browser's session cookie when it has one. A POST must bring the seed, the same
 * session cookie and the token, and they must match. Another site can neither read the cookies nor
 * compute the HMAC; and a seed planted in the cookie jar (over plain http, or from a sibling
 * subdomain) together with a token the attacker got for it is refused, since that token was made
 * for the attacker's session (or none), not the victim's.
 */
const SEED_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const CSRF_COOKIE_MS = 30 * 24 * 60 * 60 * 1000;
const FIELD = '_csrf';

export const csrfFailed = () =>
  new AppError(403, 'csrf_failed', 'This form has expired or did not come from this site. Go back, reload the page and try again.');

/**
 * The session the token is bound to: the session cookie as the browser sends it, live or not, so a
 * form whose session expired meanwhile still posts (and then meets the sign-in check).
 */
function sessionBinding(ctx: Context, request: FastifyRequest): string {
  const token = readCookie(request, cookieNames(ctx.config).session);
  return token && isTokenShaped(token) ? hashToken(token) : '';
}

function tokenFor(ctx: Context, request: FastifyRequest, seed: string): string {
  return ctx.box.mac('csrf', `${seed}.${sessionBinding(ctx, request)}`);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The form token for this request's pages, once made. */
    csrfTokenCache?: string;
  }
}

/** The token for the forms of the page being rendered; sets the seed cookie when there is none. */
export function csrfToken(ctx: Context, request: FastifyRequest, reply: FastifyReply): string {
  if (request.csrfTokenCache) return request.csrfTokenCache;
  const name = cookieNames(ctx.config).csrf;
  let seed = readCookie(request, name);
  if (!seed || !SEED_SHAPE.test(seed)) {
    seed = randomToken(ctx.random);
    setCookie(reply, ctx.config, name, seed, CSRF_COOKIE_MS);
  }
  request.csrfTokenCache = tokenFor(ctx, request, seed);
  return request.csrfTokenCache;
}

/** Throws 403 `csrf_failed` unless the body's `_csrf` matches the browser's seed and session cookies. */
export function verifyCsrf(ctx: Context, request: FastifyRequest): void {
  const seed = readCookie(request, cookieNames(ctx.config).csrf);
  const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  const sent = Object.hasOwn(body, FIELD) ? body[FIELD] : undefined;
  if (!seed || !SEED_SHAPE.test(seed) || typeof sent !== 'string') throw csrfFailed();
  const expected = Buffer.from(tokenFor(ctx, request, seed));
  const given = Buffer.from(sent);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw csrfFailed();
}
