/**
 * The rules of passkeys (SPEC §10) as pure functions: what the browser is asked for, which
 * assertions may sign a person in without a password, and what a new passkey is called. The
 * cryptography stays @simplewebauthn/server's; these decide what its results are allowed to mean.
 */
import { KEY_NAME_MAX } from './security-key.js';

/** What a credential is for: a security key is a second factor only; a passkey also signs in alone. */
export type CredentialKind = 'security_key' | 'passkey';

export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['security_key', 'passkey'];

export function isCredentialKind(v: unknown): v is CredentialKind {
  return v === 'security_key' || v === 'passkey';
}

/**
 * The authenticator selection of the creation options. A passkey must be discoverable (the sign-in
 * starts without an email) and verify its user (the PIN or biometric is the second factor). A
 * security key added for 2FA stays non-discoverable: hardware keys hold few discoverable credentials,
 * and the password already identifies the person.
 */
export function authenticatorSelectionFor(kind: CredentialKind): {
  residentKey: 'required' | 'discouraged';
  requireResidentKey: boolean;
  userVerification: 'required' | 'discouraged';
} {
  return kind === 'passkey'
    ? { residentKey: 'required', requireResidentKey: true, userVerification: 'required' }
    : { residentKey: 'discouraged', requireResidentKey: false, userVerification: 'discouraged' };
}

/**
 * Request options for a passwordless sign-in: no allowed-credential list (the browser offers every
 * passkey it holds for this site, also in autofill), and user verification required.
 */
export function passkeyRequestOptions(rpId: string, challenge: string, timeoutMs: number) {
  return { rpId, challenge, timeout: timeoutMs, userVerification: 'required' as const };
}

/** The flags byte of authenticatorData (WebAuthn §6.1): byte 32, after the 32-byte RP id hash. */
export interface AuthenticatorFlags {
  userPresent: boolean;
  userVerified: boolean;
  backupEligible: boolean;
  backedUp: boolean;
}

export function authenticatorFlags(authenticatorData: Uint8Array): AuthenticatorFlags | null {
  // 32 bytes RP id hash, 1 byte flags, 4 bytes counter.
  if (authenticatorData.length < 37) return null;
  const f = authenticatorData[32]!;
  return { userPresent: (f & 0x01) !== 0, userVerified: (f & 0x04) !== 0, backupEligible: (f & 0x08) !== 0, backedUp: (f & 0x10) !== 0 };
}

export type PasskeyRefusal =
  /** The credential is not registered here (never, or removed since): the browser should forget it. */
  | 'unknown_credential'
  /** A security key added as a second factor only: it completes a password login, it does not replace it. */
  | 'not_a_passkey'
  /** No PIN or biometric was checked: a passkey alone is then only one factor. */
  | 'no_user_verification'
  /** WebAuthn §7.2 step 6: a discoverable credential must name its account, and the right one. */
  | 'no_user_handle'
  | 'wrong_user_handle';

/**
 * Whether an assertion whose signature is (or is about to be) verified may sign a person in without
 * a password. The user-verification bit is checked here from the signed authenticator data, on top
 * of the library's requireUserVerification, so that no option of the library can let it slip.
 */
export function passkeySignInRefusal(input: {
  key: { kind: string; userId: string } | null;
  authenticatorData: Uint8Array;
  /** The response's userHandle (base64url), as the browser sent it. */
  userHandle: string | null | undefined;
  /** base64url of the user id the credential was created with (WebAuthn user.id). */
  expectedUserHandle: (userId: string) => string;
}): PasskeyRefusal | null {
  const { key } = input;
  if (!key) return 'unknown_credential';
  if (key.kind !== 'passkey') return 'not_a_passkey';
  const flags = authenticatorFlags(input.authenticatorData);
  if (!flags || !flags.userPresent || !flags.userVerified) return 'no_user_verification';
  if (!input.userHandle) return 'no_user_handle';
  if (input.userHandle !== input.expectedUserHandle(key.userId)) return 'wrong_user_handle';
  return null;
}

/** The WebAuthn user.id of an account: its id's UTF-8 bytes (as the creation options send it), base64url. */
export function userHandleOf(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

/** The challenge a browser's clientDataJSON (base64url) answers, or null when it is not readable. */
export function challengeOfClientData(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    if (typeof data !== 'object' || data === null) return null;
    const c = (data as Record<string, unknown>).challenge;
    return typeof c === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(c) ? c : null;
  } catch {
    return null;
  }
}

const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

/** An AAGUID worth recording: well-formed and not the all-zero "no model given". */
export function meaningfulAaguid(aaguid: string | null | undefined): string | null {
  if (!aaguid) return null;
  const a = aaguid.toLowerCase();
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(a) && a !== ZERO_AAGUID ? a : null;
}

/**
 * The name a new passkey gets before the person renames it: the authenticator model from its AAGUID
 * (“iCloud Keychain”, “Google Password Manager”, “YubiKey 5 Series”), or “Passkey” when the model is
 * unknown; “ 2”, “ 3”, … appended while the account already uses the name (names are unique per
 * account regardless of case).
 */
export function defaultPasskeyName(aaguid: string | null, models: Readonly<Record<string, string>>, taken: readonly string[]): string {
  const known = aaguid ? models[aaguid] : undefined;
  // A list entry is text from elsewhere: keep it printable and within the name limit.
  // eslint-disable-next-line no-control-regex
  const model = known?.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '').trim();
  const base = model ? [...model].slice(0, KEY_NAME_MAX - 4).join('') : 'Passkey';
  const used = new Set(taken.map((n) => n.toLowerCase()));
  if (!used.has(base.toLowerCase())) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base} ${i}`;
    if (!used.has(candidate.toLowerCase())) return candidate;
  }
}
