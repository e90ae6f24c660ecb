import { sameOriginPath } from '../../core/redirect-target.js';

/**
 * Where to go after login or re-authentication: a same-origin path only, validated as it will be
 * emitted (core/redirect-target.ts), so `next` cannot send anyone to another site.
 */
export function safeNext(value: unknown): string | undefined {
  const path = sameOriginPath(value);
  if (path === undefined) return undefined;
  // Going "back" to the login steps themselves makes no sense after logging in.
  if (path === '/login' || path.startsWith('/login/') || path.startsWith('/login?') || path === '/logout') return undefined;
  return path;
}

/** `path` with `?next=` (or `&next=`) appended when there is somewhere to return to. */
export function withNext(path: string, next: string | undefined): string {
  if (!next) return path;
  return `${path}${path.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}`;
}
