import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../../core/random.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { cookieNames, readCookie, setCookie } from '../cookies.js';

/**
 * CSRF protection of the HTML forms (the JSON API relies on the Origin check and JSON-only bodies).
 *
 * Each browser gets a random seed in its own HttpOnly, SameSite=Lax cookie (`__Host-` under https).
 * Forms carry HMAC(seed) keyed with the service secret as `_csrf`. A POST must bring both, and they
 * must match. Another site can neither read the cookie nor compute the HMAC, and a seed planted in
 * the cookie jar is useless without the secret.
 */
const SEED_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const CSRF_COOKIE_MS = 30 * 24 * 60 * 60 * 1000;
const FIELD = '_csrf';

export const csrfFailed = () =>
  new AppError(403, 'csrf_failed', 'This form has expired or did not come from this site. Go back, reload the page and try again.');

function tokenFor(ctx: Context, seed: string): string {
  return ctx.box.mac('csrf', seed);
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
  request.csrfTokenCache = tokenFor(ctx, seed);
  return request.csrfTokenCache;
}

/** Throws 403 `csrf_failed` unless the body's `_csrf` matches the browser's seed cookie. */
export function verifyCsrf(ctx: Context, request: FastifyRequest): void {
  const seed = readCookie(request, cookieNames(ctx.config).csrf);
  const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  const sent = Object.hasOwn(body, FIELD) ? body[FIELD] : undefined;
  if (!seed || !SEED_SHAPE.test(seed) || typeof sent !== 'string') throw csrfFailed();
  const expected = Buffer.from(tokenFor(ctx, seed));
  const given = Buffer.from(sent);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw csrfFailed();
}
