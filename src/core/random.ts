import { randomBytes } from 'node:crypto';

/** Source of cryptographically secure random bytes; injectable for deterministic tests. */
export interface RandomSource {
  bytes(n: number): Uint8Array;
}

export const cryptoRandom: RandomSource = { bytes: (n) => randomBytes(n) };

/** 256-bit URL-safe token, the form every bearer secret (session, trusted device) takes. */
export function randomToken(random: RandomSource): string {
  return Buffer.from(random.bytes(32)).toString('base64url');
}

/** Opaque public identifier for a row (not a secret). */
export function randomId(random: RandomSource): string {
  return Buffer.from(random.bytes(16)).toString('base64url');
}
