import type { Config } from '../../config.js';

/**
 * Chromium applies CSP `form-action` to every redirect after a form is sent: a login form whose
 * answer leads on to a protected application (`rd`) would be stopped at the last hop. So the pages
 * may send forms on to exactly where `rd` is honoured — PUBLIC_URL's host name (any port) and, with
 * TWOFOLD_COOKIE_DOMAIN, the domain and its subdomains — and nowhere else.
 */
export function returnFormActionSources(config: Pick<Config, 'publicUrl' | 'accessRulesPath' | 'cookieDomain'>): string[] {
  // Without rules nothing is protected (default deny), so no page ever leads anywhere else.
  if (!config.accessRulesPath && !config.cookieDomain) return [];
  const hosts = [config.publicUrl.hostname.toLowerCase()];
  if (config.cookieDomain) hosts.push(config.cookieDomain, `*.${config.cookieDomain}`);
  // An IPv6 PUBLIC_URL host is bracketed already; CSP has no syntax for it with a port wildcard.
  return hosts.filter((h) => !h.startsWith('[')).flatMap((h) => [`http://${h}:*`, `https://${h}:*`]);
}
