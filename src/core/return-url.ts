/**
 * Forward-auth `rd`: the URL of a protected application a person is sent back to after logging in
 * (SPEC §8). It is honoured only for http(s) on PUBLIC_URL's host name or under the cookie domain —
 * the places the session cookie reaches — so `rd` cannot become an open redirect. As for `next`,
 * what is checked is what will be emitted: the value is parsed the way a browser parses it, the
 * result is serialised, and that serialisation is checked (and must parse back to itself).
 */

export const RETURN_URL_MAX = 2048;

export interface ReturnUrlPolicy {
  /** PUBLIC_URL's host name, lower-case (any port: the cookie reaches every port of a host). */
  publicHostname: string;
  /** TWOFOLD_COOKIE_DOMAIN, lower-case without dots at either end; undefined when unset. */
  cookieDomain: string | undefined;
}

/** Printable ASCII without space or backslash; a real URL from a proxy is percent-encoded already. */
const PLAIN = /^[\x21-\x5b\x5d-\x7e]+$/;
/** Scheme, then "//" and an authority that starts with neither slash nor backslash. */
const ABSOLUTE_HTTP = /^https?:\/\/[^/\\]/i;

/** Whether `hostname` is the cookie domain or one of its subdomains. */
export function isUnderDomain(hostname: string, domain: string): boolean {
  return hostname === domain || (hostname.length > domain.length + 1 && hostname.endsWith(`.${domain}`));
}

function allowedHost(hostname: string, policy: ReturnUrlPolicy): boolean {
  if (hostname === policy.publicHostname) return true;
  return policy.cookieDomain !== undefined && isUnderDomain(hostname, policy.cookieDomain);
}

/**
 * The URL to redirect to, or undefined when `value` is not one: not a string, too long, not
 * absolute http(s), with user info, a trailing-dot or foreign host, or anything (control characters,
 * spaces, backslashes, non-ASCII) that a browser would rewrite. A fragment is dropped.
 */
export function safeReturnUrl(value: unknown, policy: ReturnUrlPolicy): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > RETURN_URL_MAX) return undefined;
  if (!PLAIN.test(value) || !ABSOLUTE_HTTP.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  // "app.example.com." is another name for cookies and certificates; nobody needs it here.
  if (url.hostname.endsWith('.') || !allowedHost(url.hostname, policy)) return undefined;
  url.hash = '';
  const emitted = url.href;
  if (emitted.length > RETURN_URL_MAX || !PLAIN.test(emitted)) return undefined;
  let again: URL;
  try {
    again = new URL(emitted);
  } catch {
    return undefined;
  }
  if (again.href !== emitted || again.hostname !== url.hostname || again.username !== '' || again.password !== '') return undefined;
  return emitted;
}
