/**
 * Redirect targets that came from outside (`next`, and later forward-auth `rd`). The rule: check
 * what will be emitted, not what was received. Browsers (and proxies) normalise a target before
 * they follow it — dot segments, tabs and newlines removed, backslashes read as slashes — so a
 * check of the raw text can pass `/..//evil.example`, which a URL parser turns into
 * `//evil.example`, another host. Here the target is normalised first, and the result is checked.
 */

const BASE = 'http://same-origin.invalid';
const MAX_LENGTH = 512;

/** Printable ASCII without space or backslash: all a URL we emit ever needs (the rest is %-encoded). */
const PLAIN = /^[\x21-\x5b\x5d-\x7e]*$/;

/**
 * The target as an origin-relative path starting with a single `/`, and no way for anything that
 * reads it to take it as another host: no second `/` or `\` at its start, no backslash, control
 * character or space, and the same after percent-decoding (for an intermediary that decodes before
 * it parses). Decoding is repeated a few times so double encoding hides nothing.
 */
function isPlainPath(path: string): boolean {
  let text = path;
  for (let round = 0; round < 4; round++) {
    if (!text.startsWith('/') || text.startsWith('//') || text.includes('\\')) return false;
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(text)) return false;
    if (!text.includes('%')) return true;
    let decoded: string;
    try {
      decoded = decodeURIComponent(text);
    } catch {
      return false;
    }
    if (decoded === text) return true;
    text = decoded;
  }
  return false;
}

/**
 * A same-origin target: an absolute path with an optional query, as received in `next`. Returns
 * the normalised path (what the redirect will say), or undefined when the value is anything else:
 * an absolute or protocol-relative URL, `javascript:`/`data:`, a path that normalises to `//host`,
 * backslashes, control characters, spaces or non-ASCII text (a legitimate target arrives
 * percent-encoded), or longer than 512 characters. A fragment is dropped.
 */
export function sameOriginPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return undefined;
  if (!PLAIN.test(value) || !isPlainPath(value.split('?')[0]!.split('#')[0]!) || value.startsWith('//')) return undefined;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return undefined;
  }
  if (url.origin !== BASE || url.username !== '' || url.password !== '') return undefined;
  const emitted = url.pathname + url.search;
  // What is emitted must itself be a plain path, and stay what it is when a browser parses it.
  if (emitted.length > MAX_LENGTH || !PLAIN.test(emitted) || !isPlainPath(url.pathname)) return undefined;
  let again: URL;
  try {
    again = new URL(emitted, BASE);
  } catch {
    return undefined;
  }
  if (again.origin !== BASE || again.pathname + again.search !== emitted) return undefined;
  return emitted;
}
