import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../service/errors.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * SPEC §3: a state-changing request whose Origin is present and is not PUBLIC_URL's origin is
 * refused. Browsers send Origin on every cross-site POST, so this stops CSRF from other sites even
 * before the form token is checked.
 */
export function originGuard(publicOrigin: string, exempt: (url: string) => boolean = () => false) {
  return function checkOrigin(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    if (SAFE.has(request.method)) return done();
    // Forward-auth endpoints are asked with the protected request's own method and Origin.
    if (request.routeOptions.config?.originCheck === false) return done();
    // The OpenID Provider's endpoints (token, revocation …) are called by other sites by design.
    if (exempt(request.url)) return done();
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== publicOrigin) {
      return done(new AppError(403, 'cross_origin_request', 'This request came from another site and was refused.'));
    }
    done();
  };
}
