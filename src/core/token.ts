import { createHash } from 'node:crypto';

/**
 * Bearer tokens are stored as their SHA-256: a leaked table cannot be replayed as cookies, and a
 * 256-bit random token needs no salt or slow hash.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A token from a cookie is 32 random bytes in base64url: 43 characters. */
export function isTokenShaped(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}
