/**
 * The bookkeeping rules of WebAuthn ceremonies, as pure functions: key names, challenges, the
 * signature counter and credential ownership. The cryptography is @simplewebauthn/server's; the
 * storage is the store's.
 */

/** A challenge is dead 5 minutes after it was issued (issue 5). */
export const CHALLENGE_TTL_MS = 5 * 60_000;

/** The ceremonies a challenge can be issued for; one can never stand in for another. */
export type CeremonyPurpose = 'registration' | 'passkey_registration' | 'authentication' | 'reauthentication';

export const KEY_NAME_MAX = 64;

export type KeyNameCheck = { ok: true; name: string } | { ok: false; problem: string };

/** Key names: trimmed, 1–64 characters, no control characters. */
export function checkKeyName(input: string): KeyNameCheck {
  const name = input.trim();
  if (name.length === 0) return { ok: false, problem: 'Give the key a name, such as “Blue YubiKey”.' };
  // Characters, not UTF-16 units: an emoji counts once.
  if ([...name].length > KEY_NAME_MAX) return { ok: false, problem: `The key name is too long: ${KEY_NAME_MAX} characters at most.` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return { ok: false, problem: 'The key name cannot contain line breaks, tabs or other control characters.' };
  return { ok: true, name };
}

export interface StoredChallenge {
  sessionId: string;
  purpose: CeremonyPurpose | string;
  expiresAt: number;
}

export type ChallengeProblem = 'missing' | 'expired' | 'wrong_session' | 'wrong_purpose';

export function challengeExpiresAt(issuedAt: number): number {
  return issuedAt + CHALLENGE_TTL_MS;
}

/**
 * Whether a stored challenge may answer this ceremony: it must exist (not yet used), be younger
 * than 5 minutes, and have been issued to this session for this very purpose.
 */
export function challengeProblem(
  stored: StoredChallenge | null | undefined,
  ceremony: { sessionId: string; purpose: CeremonyPurpose },
  now: number,
): ChallengeProblem | null {
  if (!stored) return 'missing';
  if (stored.sessionId !== ceremony.sessionId) return 'wrong_session';
  if (stored.purpose !== ceremony.purpose) return 'wrong_purpose';
  if (now >= stored.expiresAt) return 'expired';
  return null;
}

/**
 * The signature counter rule (WebAuthn §6.1.1): authenticators that keep a counter (either value
 * non-zero) must present a strictly larger one each time; anything else may be a cloned key. Keys
 * that keep no counter always send 0.
 */
export function checkCounter(stored: number, received: number): 'ok' | 'possibly_cloned' {
  if ((stored !== 0 || received !== 0) && !(received > stored)) return 'possibly_cloned';
  return 'ok';
}

/** A credential answers only for the account it was registered to; any other is unknown here. */
export function credentialOwnership(key: { userId: string } | null | undefined, userId: string): 'own' | 'unknown' {
  return key && key.userId === userId ? 'own' : 'unknown';
}
