import type { Config } from '../config.js';
import { returnFormActionSources } from './authz/csp.js';

/**
 * The security headers of every answer, computed once at start from the configuration and set in
 * one hook. They are exactly what @fastify/helmet set with our options (pages, API, assets and
 * errors all get the same ones), without helmet re-building its CSP string on every request.
 */
export function securityHeaders(config: Pick<Config, 'secureCookies' | 'publicUrl' | 'accessRulesPath' | 'cookieDomain'>): Readonly<Record<string, string>> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    // Forward auth: forms may lead on (by redirect) to where rd is honoured (authz/csp.ts).
    ["form-action 'self'", ...returnFormActionSources(config)].join(' '),
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

/**
 * Which headers an answer gets, by what reads it:
 * - `page`: HTML for a browser, all of the above;
 * - `api`: JSON (the API, /healthz): what still means something for a document that is never
 *   rendered — the same CSP (a JSON answer opened as a page runs nothing and cannot be framed),
 *   no MIME sniffing, no framing, no cross-site reads (CORP), HSTS, and no-store, since answers carry
 *   secrets and codes; the page-only ones (COOP, Origin-Agent-Cluster, X-XSS-Protection, …) are left out;
 * - `none`: a forward-auth allow, read by the reverse proxy and never by a browser (its other answers,
 *   which a proxy may pass on, get the `api` set).
 * Built once at start: per answer it is one object handed to reply.headers.
 */
export type HeaderKind = 'page' | 'api' | 'none';

export function securityHeaderSets(config: Pick<Config, 'secureCookies' | 'publicUrl' | 'accessRulesPath' | 'cookieDomain'>): Readonly<Record<HeaderKind, Readonly<Record<string, string>>>> {
  const page = securityHeaders(config);
  const keep = ['content-security-policy', 'cross-origin-resource-policy', 'referrer-policy', 'strict-transport-security', 'x-content-type-options', 'x-frame-options'];
  const api: Record<string, string> = {};
  for (const name of keep) if (page[name] !== undefined) api[name] = page[name];
  api['cache-control'] = 'no-store';
  return Object.freeze({ page, api: Object.freeze(api), none: Object.freeze({}) });
}
