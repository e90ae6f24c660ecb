import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/**
 * The security headers of every answer, computed once at start from the configuration and set in
 * one hook. They are exactly what @fastify/helmet set with our options (pages, API, assets and
 * errors all get the same ones), without helmet re-building its CSP string on every request.
 */
export function securityHeaders(config: Pick<Config, 'secureCookies'>): Readonly<Record<string, string>> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    ...(config.secureCookies ? ['upgrade-insecure-requests'] : []),
  ].join(';');
  return Object.freeze({
    'content-security-policy': csp,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    // Not no-referrer: under it browsers send `Origin: null` with a page's own form posts and
    // fetches, which the Origin check must refuse. same-origin still tells other sites nothing.
    'referrer-policy': 'same-origin',
    ...(config.secureCookies ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  });
}

export function securityHeadersHook(config: Pick<Config, 'secureCookies'>) {
  const headers = securityHeaders(config);
  return function setSecurityHeaders(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    reply.headers(headers);
    done();
  };
}
