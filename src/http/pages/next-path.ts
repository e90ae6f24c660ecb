/**
 * Where to go after login. Only a same-site path is accepted ("/settings?x=1"), never an absolute
 * URL, a protocol-relative "//host" or a backslash trick, so `next` cannot send anyone elsewhere.
 */
export function safeNext(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, 'http://same.invalid');
  } catch {
    return undefined;
  }
  if (url.origin !== 'http://same.invalid') return undefined;
  const path = url.pathname + url.search;
  // Going "back" to the login steps themselves makes no sense after logging in.
  if (path === '/login' || path.startsWith('/login/') || path.startsWith('/login?') || path === '/logout') return undefined;
  return path;
}

/** `path` with `?next=` (or `&next=`) appended when there is somewhere to return to. */
export function withNext(path: string, next: string | undefined): string {
  if (!next) return path;
  return `${path}${path.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}`;
}
