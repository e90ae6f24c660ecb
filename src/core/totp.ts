import { timingSafeEqual } from 'node:crypto';
import { HOTP, Secret } from 'otpauth';
import { encodeBase32, exactBytes } from './base32.js';
import type { RandomSource } from './random.js';

/** SPEC §3 fixes these; authenticator apps ignore or mishandle anything else. */
export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one, to absorb clock drift and typing time. */
export const TOTP_WINDOW = 1;

const SECRET_BYTES = 20;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export type TotpVerification =
  | { ok: true; step: number }
  | { ok: false; reason: 'malformed' | 'wrong' | 'replayed' };

/** 160 bits is the RFC 4226 recommended key length, and it encodes to 32 base32 chars without padding. */
export function generateTotpSecret(random: RandomSource): string {
  return encodeBase32(exactBytes(random.bytes(SECRET_BYTES), SECRET_BYTES), BASE32_ALPHABET);
}

/** The exact shape generateTotpSecret produces; anything else is not a secret this service issued. */
export function isBase32Secret(s: string): boolean {
  return /^[A-Z2-7]{32}$/.test(s);
}

export function otpauthUri({ issuer, account, secret }: { issuer: string; account: string; secret: string }): string {
  const i = encodeURIComponent(issuer);
  // The ':' separating issuer and account must stay literal: apps split the label on it.
  return (
    `otpauth://totp/${i}:${encodeURIComponent(account)}` +
    `?secret=${secret}&issuer=${i}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_S}`
  );
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_S);
}

/** Other algorithms and lengths exist only so the RFC test vectors can be checked. */
export function totpCode(
  secret: string,
  step: number,
  opts?: { algorithm?: TotpAlgorithm; digits?: number },
): string {
  return HOTP.generate({
    secret: Secret.fromBase32(secret),
    algorithm: opts?.algorithm ?? 'SHA1',
    digits: opts?.digits ?? TOTP_DIGITS,
    counter: step,
  });
}

/** Apps often show the code as "123 456", and people paste it that way. */
export function normalizeTotpCode(input: string): string | null {
  // Bounded before any work so a huge body cannot cost anything.
  if (input.length > 64) return null;
  const code = input.replace(/\s+/g, '');
  return /^[0-9]{6}$/.test(code) ? code : null;
}

/**
 * Every candidate step is computed and compared, stale or not, so timing reveals neither which step
 * matched nor whether the code was a replay. The caller must store the returned step atomically
 * (compare-and-set on lastUsedStep) or two nodes could accept the same code concurrently.
 */
export function verifyTotp(secret: string, input: string, nowMs: number, lastUsedStep: number | null): TotpVerification {
  const code = normalizeTotpCode(input);
  if (code === null) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(code, 'utf8');
  const current = totpStep(nowMs);
  let fresh: number | null = null;
  let stale = false;
  for (let delta = -TOTP_WINDOW; delta <= TOTP_WINDOW; delta++) {
    const step = current + delta;
    if (step < 0) continue;
    const matches = timingSafeEqual(Buffer.from(totpCode(secret, step), 'utf8'), given);
    const isFresh = lastUsedStep === null || step > lastUsedStep;
    // On the (1 in a million) chance two steps share a code, the latest one is stored so the
    // replay guard covers both.
    if (matches && isFresh) fresh = step;
    if (matches && !isFresh) stale = true;
  }
  if (fresh !== null) return { ok: true, step: fresh };
  return { ok: false, reason: stale ? 'replayed' : 'wrong' };
}
