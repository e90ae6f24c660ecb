/**
 * What a reverse proxy says about the request it is asking about. Everything here came over the
 * network and is refused unless it is exactly one well-formed value: a missing or malformed header
 * must end in a 4xx, never in an allow.
 */

export const FORWARDED_URL_MAX = 8192;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'QUERY']);
/** Printable ASCII without space or backslash: a request target from a proxy is percent-encoded. */
const PLAIN = /^[\x21-\x5b\x5d-\x7e]+$/;
/** host or host:port (a name, IPv4, or bracketed IPv6); no user info, path or list. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

export interface ForwardedRequest {
  /** The original URL, as the person's browser asked for it. */
  url: URL;
  method: string;
}

export type Parsed = { ok: true; value: ForwardedRequest } | { ok: false; message: string };

type HeaderValue = string | string[] | undefined;

/** One value: an absent, repeated or comma-joined header (several proxies' answers) is not one. */
function single(name: string, value: HeaderValue, commas = false): { ok: true; value: string } | { ok: false; message: string } {
  if (value === undefined || value === '') return { ok: false, message: `The ${name} header is missing.` };
  // Node joins a repeated header with ", "; a path may hold commas, but never that space.
  if (Array.isArray(value) || (!commas && value.includes(','))) return { ok: false, message: `The ${name} header must have one value.` };
  const v = value.trim();
  if (v.length === 0 || v.length > FORWARDED_URL_MAX || !PLAIN.test(v)) return { ok: false, message: `The ${name} header is malformed.` };
  return { ok: true, value: v };
}

function method(name: string, value: HeaderValue): { ok: true; value: string } | { ok: false; message: string } {
  const m = single(name, value);
  if (!m.ok) return m;
  const upper = m.value.toUpperCase();
  if (!METHODS.has(upper)) return { ok: false, message: `The ${name} header is not an HTTP method.` };
  return { ok: true, value: upper };
}

function finish(url: URL, m: string, raw: string): Parsed {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: 'The original URL must be http or https.' };
  if (url.username !== '' || url.password !== '' || url.hostname === '') return { ok: false, message: 'The original URL is malformed.' };
  if (url.href.length > FORWARDED_URL_MAX || !PLAIN.test(url.href) || raw.length > FORWARDED_URL_MAX) return { ok: false, message: 'The original URL is malformed.' };
  url.hash = '';
  return { ok: true, value: { url, method: m } };
}

/** Traefik and Caddy: X-Forwarded-Method, -Proto, -Host and -Uri. */
export function parseForwardAuth(h: Record<string, HeaderValue>): Parsed {
  const m = method('X-Forwarded-Method', h['x-forwarded-method']);
  if (!m.ok) return m;
  const proto = single('X-Forwarded-Proto', h['x-forwarded-proto']);
  if (!proto.ok) return proto;
  const scheme = proto.value.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, message: 'The X-Forwarded-Proto header must be http or https.' };
  const host = single('X-Forwarded-Host', h['x-forwarded-host']);
  if (!host.ok) return host;
  if (!HOST.test(host.value)) return { ok: false, message: 'The X-Forwarded-Host header is not a host name.' };
  const uri = single('X-Forwarded-Uri', h['x-forwarded-uri'], true);
  if (!uri.ok) return uri;
  // An origin-form target only: "//other.host/x" or "http://…" would move the URL to another host.
  if (!uri.value.startsWith('/') || uri.value.startsWith('//')) return { ok: false, message: 'The X-Forwarded-Uri header must be a path.' };
  let url: URL;
  try {
    url = new URL(`${scheme}://${host.value}${uri.value}`);
  } catch {
    return { ok: false, message: 'The forwarded headers do not make a URL.' };
  }
  if (url.host !== host.value.toLowerCase() && url.hostname !== host.value.toLowerCase()) return { ok: false, message: 'The X-Forwarded-Host header is not a host name.' };
  return finish(url, m.value, uri.value);
}

/** nginx auth_request: X-Original-URL and X-Original-Method. */
export function parseAuthRequest(h: Record<string, HeaderValue>): Parsed {
  const m = method('X-Original-Method', h['x-original-method']);
  if (!m.ok) return m;
  const raw = h['x-original-url'];
  // A URL may hold commas in its query, so this one is not split on them.
  if (raw === undefined || raw === '') return { ok: false, message: 'The X-Original-URL header is missing.' };
  if (Array.isArray(raw)) return { ok: false, message: 'The X-Original-URL header must have one value.' };
  const text = raw.trim();
  if (text.includes(', ')) return { ok: false, message: 'The X-Original-URL header must have one value.' };
  if (text.length === 0 || text.length > FORWARDED_URL_MAX || !PLAIN.test(text) || !/^https?:\/\/[^/\\]/i.test(text)) {
    return { ok: false, message: 'The X-Original-URL header must be an absolute http(s) URL.' };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: 'The X-Original-URL header must be an absolute http(s) URL.' };
  }
  return finish(url, m.value, text);
}
