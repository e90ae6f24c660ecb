import type { Clock } from './clock.js';
import { randomToken, type RandomSource } from './random.js';
import { hashToken } from './token.js';

/**
 * Links in mail carry a single-use 256-bit random token; only its SHA-256 is stored, so a copy of
 * the database opens no link. Each purpose has its lifetime (SPEC §7).
 */
export type EmailTokenPurpose = 'verify_email' | 'change_email' | 'password_reset' | 'secure_account';

export const TOKEN_TTL_MS: Record<EmailTokenPurpose, number> = {
  verify_email: 24 * 60 * 60_000,
  change_email: 24 * 60 * 60_000,
  password_reset: 30 * 60_000,
  secure_account: 7 * 24 * 60 * 60_000,
};

export interface NewEmailToken {
  /** Goes into the link, never stored. */
  token: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
}

export function newEmailToken(purpose: EmailTokenPurpose, clock: Clock, random: RandomSource): NewEmailToken {
  const token = randomToken(random);
  const createdAt = clock.now();
  return { token, tokenHash: hashToken(token), createdAt, expiresAt: createdAt + TOKEN_TTL_MS[purpose] };
}

export type TokenProblem = 'unknown' | 'used' | 'expired' | 'superseded';

/**
 * Why a stored token cannot be used now, or null when it can. A reset link also dies with any
 * password change after it was made (`notBefore`).
 */
export function tokenProblem(t: { usedAt: number | null; expiresAt: number; createdAt: number } | null, now: number, notBefore?: number): TokenProblem | null {
  if (!t) return 'unknown';
  if (t.usedAt !== null) return 'used';
  if (now >= t.expiresAt) return 'expired';
  if (notBefore !== undefined && t.createdAt < notBefore) return 'superseded';
  return null;
}
