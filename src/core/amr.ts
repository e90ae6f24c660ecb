/**
 * Authentication method references (RFC 8176) for what a session's login actually proved. Kept on
 * the session so that forward-auth `two_factor` rules and OpenID Connect `amr` claims tell a
 * password-only login from one that passed a second factor, without asking the database again.
 */
export type AmrValue = 'pwd' | 'otp' | 'hwk' | 'user' | 'mfa';

const KNOWN: ReadonlySet<string> = new Set<AmrValue>(['pwd', 'otp', 'hwk', 'user', 'mfa']);
/** Factors other than the password: one of these at this login means two factors were shown. */
const SECOND_FACTORS: ReadonlySet<AmrValue> = new Set<AmrValue>(['otp', 'hwk']);
const ORDER: readonly AmrValue[] = ['pwd', 'otp', 'hwk', 'user', 'mfa'];

/** Which RFC 8176 value a second-factor method proves: app and recovery codes are one-time codes. */
export function amrOfMethod(method: 'totp' | 'recovery_code' | 'webauthn'): AmrValue {
  return method === 'webauthn' ? 'hwk' : 'otp';
}

/**
 * Merges proofs into a normalised list (stable order, no duplicates) and adds `mfa` when the set
 * holds two independent factors: a password with a second factor, or a key with user verification.
 */
export function combineAmr(...parts: readonly (readonly AmrValue[])[]): AmrValue[] {
  const set = new Set<AmrValue>();
  for (const p of parts) for (const v of p) if (v !== 'mfa') set.add(v);
  const second = [...set].some((v) => SECOND_FACTORS.has(v));
  if (second && (set.has('pwd') || set.has('user'))) set.add('mfa');
  return ORDER.filter((v) => set.has(v));
}

/** Whether the login (or this session since) verified a second factor. */
export function hasSecondFactor(amr: readonly AmrValue[]): boolean {
  return amr.includes('mfa');
}

export function serializeAmr(amr: readonly AmrValue[]): string {
  return amr.join(' ');
}

/** Unknown words (a newer version's values read by an older node) are dropped, never trusted. */
export function parseAmr(text: string | null | undefined): AmrValue[] {
  if (!text) return [];
  return combineAmr(text.split(' ').filter((w): w is AmrValue => KNOWN.has(w)));
}
