import { combineAmr, type AmrValue } from '../core/amr.js';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { createRequire } from 'node:module';
import { authenticatorSelectionFor, defaultPasskeyName, meaningfulAaguid, type CredentialKind } from '../core/passkey.js';
import { webauthn } from './webauthn-module.js';
import { countSecondFactor } from './metrics.js';
import { randomId } from '../core/random.js';
import { challengeExpiresAt, checkCounter, checkKeyName, credentialOwnership, CHALLENGE_TTL_MS, type CeremonyPurpose } from '../core/security-key.js';
import { clearAttempts } from '../store/attempts.js';
import { consumeChallenge, saveChallenge } from '../store/challenges.js';
import { deleteRecoveryCodes } from '../store/recovery-codes.js';
import {
  deleteSecurityKey,
  findSecurityKey,
  findSecurityKeyByCredentialId,
  insertSecurityKey,
  listSecurityKeys,
  recordSecurityKeyUse,
  renameSecurityKey,
  SecurityKeyConflictError,
  securityKeyNameTaken,
  type SecurityKey,
} from '../store/security-keys.js';
import { markSessionAuthenticated } from '../store/sessions.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../store/two-factor-status.js';
import { confirmPassword } from './accounts.js';
import type { Context, RequestMeta } from './context.js';
import { AppError, notFound } from './errors.js';
import { issueRecoveryCodes } from './recovery-codes.js';
import { logEvent } from './security-log.js';
import type { ActiveSession } from './sessions.js';
import { revokeAllDevices } from './trusted-devices.js';
import { checkMethodAvailable, finishTwoFactorLogin, type TwoFactorLoginResult } from './two-factor-login.js';

/*
 * Security keys (WebAuthn) as a second factor, with @simplewebauthn/server doing the cryptography.
 * Relying party id and origin come from PUBLIC_URL; attestation is not asked for ('none'); user
 * presence is required and user verification is not (the key is the second factor, the password
 * the first). Every challenge lives in the database, bound to the session and the ceremony,
 * single-use and dead after 5 minutes, so any node can finish what another began.
 */

const TRANSPORTS: readonly AuthenticatorTransportFuture[] = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];

/**
 * AAGUID → authenticator model, from the maintained `aaguids` package (a CommonJS JSON map; loaded
 * through require so that its shape does not depend on how ESM wraps CommonJS).
 */
let aaguids: Readonly<Record<string, string>> | undefined;
// Read on the first passkey registration, not at start: the map is large and rarely needed.
const aaguidModels = (): Readonly<Record<string, string>> => (aaguids ??= createRequire(import.meta.url)('aaguids') as Readonly<Record<string, string>>);

export const rpId = (ctx: Context) => ctx.config.publicUrl.hostname;

export function toTransports(list: readonly string[] | undefined): AuthenticatorTransportFuture[] {
  return (list ?? []).filter((t): t is AuthenticatorTransportFuture => (TRANSPORTS as readonly string[]).includes(t));
}

function newChallenge(ctx: Context): Uint8Array<ArrayBuffer> {
  return new Uint8Array(ctx.random.bytes(32));
}

async function storeChallenge(ctx: Context, session: { id: string; userId: string }, purpose: CeremonyPurpose, challenge: string): Promise<void> {
  const now = ctx.clock.now();
  await saveChallenge(ctx.db, {
    id: randomId(ctx.random),
    sessionId: session.id,
    userId: session.userId,
    purpose,
    challenge,
    createdAt: now,
    expiresAt: challengeExpiresAt(now),
  });
}

// ---- shapes of what the browser sends (@simplewebauthn/browser's JSON) ----

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isB64url = (v: unknown, max = 16 * 1024): v is string => typeof v === 'string' && v.length > 0 && v.length <= max && /^[A-Za-z0-9_-]+={0,2}$/.test(v);

function credentialShaped(v: unknown): v is Json & { id: string; rawId: string; response: Json } {
  return isObject(v) && isB64url(v.id, 1400) && isB64url(v.rawId, 1400) && v.type === 'public-key' && isObject(v.response);
}

function isRegistrationResponse(v: unknown): v is RegistrationResponseJSON {
  if (!credentialShaped(v)) return false;
  const r = v.response;
  return isB64url(r.clientDataJSON) && isB64url(r.attestationObject, 32 * 1024) && (r.transports === undefined || (Array.isArray(r.transports) && r.transports.every((t) => typeof t === 'string')));
}

export function isAuthenticationResponse(v: unknown): v is AuthenticationResponseJSON {
  if (!credentialShaped(v)) return false;
  const r = v.response;
  return (
    isB64url(r.clientDataJSON) &&
    isB64url(r.authenticatorData) &&
    isB64url(r.signature, 1024) &&
    (r.userHandle === undefined || r.userHandle === null || typeof r.userHandle === 'string')
  );
}

// ---- errors ----

const invalidName = (problem: string) => new AppError(400, 'invalid_name', problem, {}, 'name');
const nameTaken = () => new AppError(409, 'name_taken', 'You already have a passkey or security key with that name. Choose another name.', {}, 'name');

/** Malformed input is refused before anything is used up or logged. */
export const notAnAnswer = () => new AppError(400, 'invalid_request', 'That is not a security key answer (the JSON of the browser’s WebAuthn response).');

function registrationRefused(message: string): AppError {
  return new AppError(400, 'invalid_security_key', message);
}

/** Every refused key at login or reauthentication answers alike (SPEC §5: 401 invalid_code). */
export function keyRefused(message = 'The security key could not be verified. Try again, or use another way to confirm it is you.'): AppError {
  return new AppError(401, 'invalid_code', message);
}

function challengeMessage(problem: string): string {
  return problem === 'expired'
    ? 'The security key request expired (they last 5 minutes). Start again.'
    : 'There is no security key request waiting: it was used already or never started. Start again.';
}

/** What the library's refusal means, in a word for the security log (never the raw text). */
export function refusalReason(err: unknown): string {
  const m = err instanceof Error ? err.message : '';
  if (/not present/i.test(m)) return 'no_user_presence';
  if (/not .*verified/i.test(m)) return 'no_user_verification';
  if (/challenge/i.test(m)) return 'wrong_challenge';
  if (/origin/i.test(m)) return 'wrong_origin';
  if (/RP ?ID/i.test(m)) return 'wrong_rp_id';
  if (/type/i.test(m)) return 'wrong_type';
  return 'invalid_response';
}

// ---- adding a key ----

/** The person's keys, for settings. */
export interface SecurityKeyView {
  id: string;
  kind: CredentialKind;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export async function listKeys(ctx: Context, userId: string): Promise<SecurityKeyView[]> {
  const keys = await listSecurityKeys(ctx.db, userId);
  return keys.map((k) => ({
    id: k.id,
    kind: k.kind,
    name: k.name,
    createdAt: new Date(k.createdAt).toISOString(),
    lastUsedAt: k.lastUsedAt === null ? null : new Date(k.lastUsedAt).toISOString(),
  }));
}

const registrationPurpose = (kind: CredentialKind): CeremonyPurpose => (kind === 'passkey' ? 'passkey_registration' : 'registration');

/**
 * POST /me/security-keys/options (and /me/passkeys/options): creation options for the browser's
 * prompt. The account's keys are excluded, so the same key cannot be added twice. The challenge
 * replaces any earlier one of this session for the same kind; a security key's challenge cannot add
 * a passkey (which needs user verification) nor the other way round.
 */
export async function registrationOptions(ctx: Context, auth: ActiveSession, kind: CredentialKind = 'security_key'): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { session, email } = auth;
  const keys = await listSecurityKeys(ctx.db, session.userId);
  const options = await (await webauthn()).generateRegistrationOptions({
    rpName: ctx.config.issuer,
    rpID: rpId(ctx),
    userName: email,
    userDisplayName: email,
    // The user handle a passkey hands back at sign-in (core/passkey.ts userHandleOf).
    userID: new Uint8Array(Buffer.from(session.userId, 'utf8')),
    challenge: newChallenge(ctx),
    timeout: CHALLENGE_TTL_MS,
    attestationType: 'none',
    excludeCredentials: keys.map((k) => ({ id: k.credentialId, transports: toTransports(k.transports) })),
    authenticatorSelection: authenticatorSelectionFor(kind),
  });
  await storeChallenge(ctx, session, registrationPurpose(kind), options.challenge);
  return options;
}

export interface AddedKey {
  id: string;
  kind: CredentialKind;
  name: string;
  /** Present when this key turned two-factor authentication on: shown once, like after app setup. */
  recoveryCodes?: string[];
}

/**
 * POST /me/security-keys: verifies the browser's answer to the registration challenge and stores
 * the key under the person's name for it. The name is checked before the challenge is used, so a
 * taken or bad name can be corrected and the same answer sent again.
 */
export async function addSecurityKey(
  ctx: Context,
  session: { id: string; userId: string; amr: AmrValue[] },
  input: { name: string; response: unknown },
  meta: RequestMeta,
  kind: CredentialKind = 'security_key',
): Promise<AddedKey> {
  const userId = session.userId;
  const passkey = kind === 'passkey';
  // A passkey may come without a name: it is then named after its model (below).
  let name: string | null = null;
  if (!passkey || input.name.trim() !== '') {
    const checked = checkKeyName(input.name);
    if (!checked.ok) throw invalidName(checked.problem);
    name = checked.name;
    if (await securityKeyNameTaken(ctx.db, userId, name)) throw nameTaken();
  }

  if (!isRegistrationResponse(input.response)) throw notAnAnswer();

  const now = ctx.clock.now();
  const taken = await consumeChallenge(ctx.db, session.id, registrationPurpose(kind), now);
  if (!taken.ok) throw registrationRefused(challengeMessage(taken.problem));

  let verified: Awaited<ReturnType<typeof import('@simplewebauthn/server').verifyRegistrationResponse>>;
  try {
    verified = await (await webauthn()).verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: taken.challenge.challenge,
      expectedOrigin: ctx.config.publicOrigin,
      expectedRPID: rpId(ctx),
      requireUserPresence: true,
      // A passkey signs in alone, so its PIN or biometric must have been checked from the start.
      requireUserVerification: passkey,
    });
  } catch (err) {
    const reason = refusalReason(err);
    throw registrationRefused(
      reason === 'no_user_presence'
        ? 'The key did not confirm that someone touched it. Try again and touch the key when it blinks.'
        : reason === 'no_user_verification'
          ? 'The passkey was not added: your device did not check your PIN, fingerprint or face. A passkey needs that check; try again and confirm it when asked.'
          : passkey
            ? 'The passkey’s answer could not be verified. Try adding the passkey again.'
            : 'The security key’s answer could not be verified. Try adding the key again.',
    );
  }
  if (!verified.verified) throw registrationRefused('The security key’s answer could not be verified. Try adding the key again.');
  const credential = verified.registrationInfo.credential;
  const aaguid = meaningfulAaguid(verified.registrationInfo.aaguid);
  if (name === null) {
    const names = (await listSecurityKeys(ctx.db, userId)).map((k) => k.name);
    name = defaultPasskeyName(aaguid, aaguidModels(), names);
  }

  const before = await twoFactorStatus(ctx.db, userId);
  const key: SecurityKey = {
    id: randomId(ctx.random),
    userId,
    credentialId: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    transports: toTransports(credential.transports),
    name,
    createdAt: now,
    lastUsedAt: null,
    kind,
    aaguid,
  };
  try {
    await insertSecurityKey(ctx.db, key);
  } catch (err) {
    if (err instanceof SecurityKeyConflictError) {
      if (err.conflict === 'name_taken') throw nameTaken();
      throw new AppError(409, 'key_already_registered', 'This security key is already registered to an account. Use another key.');
    }
    throw err;
  }

  let recoveryCodes: string[] | undefined;
  if (!isTwoFactorEnabled(before)) {
    // The first second factor: two-factor authentication turns on, with its recovery codes.
    recoveryCodes = await issueRecoveryCodes(ctx, userId);
    await logEvent(ctx, userId, 'two_factor_enabled', meta, { method: 'webauthn' });
  }
  // Confirming a new factor counts as verifying it (SPEC §3).
  await markSessionAuthenticated(ctx.db, session.id, now, combineAmr(session.amr, ['hwk']));
  await logEvent(ctx, userId, passkey ? 'passkey_added' : 'security_key_added', meta, { name });
  return { id: key.id, kind, name, ...(recoveryCodes ? { recoveryCodes } : {}) };
}

/**
 * DELETE /me/security-keys/:id. Returns whether this turned two-factor authentication off.
 */
export async function removeSecurityKey(ctx: Context, userId: string, id: string, meta: RequestMeta): Promise<{ twoFactorDisabled: boolean; kind: CredentialKind }> {
  const removed = await deleteSecurityKey(ctx.db, userId, id);
  if (!removed) throw notFound('That security key');
  await logEvent(ctx, userId, removed.kind === 'passkey' ? 'passkey_removed' : 'security_key_removed', meta, { name: removed.name });
  const status = await twoFactorStatus(ctx.db, userId);
  if (isTwoFactorEnabled(status)) return { twoFactorDisabled: false, kind: removed.kind };
  // That was the last key and there is no authenticator app: two-factor authentication is now off,
  // so what exists only with it goes too, as on Disable (SPEC §2): the recovery codes (they would
  // otherwise stand for a second factor that no longer exists) and the trusted devices (they skip
  // a second factor; a later setup must not inherit them), and the failure count.
  await deleteRecoveryCodes(ctx.db, userId);
  await clearAttempts(ctx.db, userId);
  await revokeAllDevices(ctx, userId, meta, 'two_factor_disabled');
  await logEvent(ctx, userId, 'two_factor_disabled', meta, { because: 'last_security_key_removed' });
  return { twoFactorDisabled: true, kind: removed.kind };
}

/** PATCH /me/security-keys/:id: a passkey or security key gets another name. */
export async function renameKey(ctx: Context, userId: string, id: string, input: { name: string }, meta: RequestMeta): Promise<SecurityKeyView> {
  const checked = checkKeyName(input.name);
  if (!checked.ok) throw invalidName(checked.problem);
  const name = checked.name;
  if (!(await findSecurityKey(ctx.db, userId, id))) throw notFound('That passkey or security key');
  if (await securityKeyNameTaken(ctx.db, userId, name, id)) throw nameTaken();
  let before: SecurityKey | null;
  try {
    before = await renameSecurityKey(ctx.db, userId, id, name);
  } catch (err) {
    if (err instanceof SecurityKeyConflictError) throw nameTaken();
    throw err;
  }
  if (!before) throw notFound('That passkey or security key');
  if (before.name !== name) {
    await logEvent(ctx, userId, before.kind === 'passkey' ? 'passkey_renamed' : 'security_key_renamed', meta, { name, previousName: before.name });
  }
  const k = { ...before, name };
  return {
    id: k.id,
    kind: k.kind,
    name: k.name,
    createdAt: new Date(k.createdAt).toISOString(),
    lastUsedAt: k.lastUsedAt === null ? null : new Date(k.lastUsedAt).toISOString(),
  };
}

// ---- using a key: login and reauthentication ----

async function requestOptions(ctx: Context, session: { id: string; userId: string }, purpose: CeremonyPurpose): Promise<PublicKeyCredentialRequestOptionsJSON> {
  checkMethodAvailable(await twoFactorStatus(ctx.db, session.userId), 'webauthn');
  const keys = await listSecurityKeys(ctx.db, session.userId);
  const options = await (await webauthn()).generateAuthenticationOptions({
    rpID: rpId(ctx),
    allowCredentials: keys.map((k) => ({ id: k.credentialId, transports: toTransports(k.transports) })),
    challenge: newChallenge(ctx),
    timeout: CHALLENGE_TTL_MS,
    userVerification: 'discouraged',
  });
  await storeChallenge(ctx, session, purpose, options.challenge);
  return options;
}

/** POST /login/two-factor/webauthn/options: request options for a pending login. */
export function loginOptions(ctx: Context, pending: ActiveSession): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return requestOptions(ctx, pending.session, 'authentication');
}

/** POST /me/reauthenticate/webauthn/options: request options to make a signed-in session fresh. */
export function reauthenticationOptions(ctx: Context, auth: ActiveSession): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return requestOptions(ctx, auth.session, 'reauthentication');
}

/**
 * Checks an assertion against the session's challenge for the ceremony and the account's keys.
 * Every refusal is logged ('security_key_failed' with a reason, or 'security_key_possibly_cloned').
 * Not subject to the brute-force lock: a key cannot be guessed (SPEC §3), and a success does not
 * clear the count of guessed codes either, so a key login never hands a guesser new tries.
 */
async function verifyAssertion(
  ctx: Context,
  session: { id: string; userId: string },
  purpose: CeremonyPurpose,
  response: unknown,
  meta: RequestMeta,
): Promise<SecurityKey> {
  const userId = session.userId;
  const during = purpose === 'authentication' ? 'login' : 'reauthenticate';
  const refuse = async (reason: string, detail: Record<string, string> = {}): Promise<never> => {
    await logEvent(ctx, userId, 'security_key_failed', meta, { reason, during, ...detail });
    throw keyRefused(reason.startsWith('challenge_') ? challengeMessage(reason.slice('challenge_'.length)) : undefined);
  };

  if (!isAuthenticationResponse(response)) throw notAnAnswer();
  const now = ctx.clock.now();
  // Taken before anything is checked, so every answer, good or bad, uses the challenge up.
  const taken = await consumeChallenge(ctx.db, session.id, purpose, now);
  if (!taken.ok) return refuse(`challenge_${taken.problem}`);

  const found = await findSecurityKeyByCredentialId(ctx.db, response.id);
  if (credentialOwnership(found, userId) === 'unknown' || !found) return refuse('unknown_credential');
  const key = found;

  let result: Awaited<ReturnType<typeof import('@simplewebauthn/server').verifyAuthenticationResponse>>;
  try {
    result = await (await webauthn()).verifyAuthenticationResponse({
      response,
      expectedChallenge: taken.challenge.challenge,
      expectedOrigin: ctx.config.publicOrigin,
      expectedRPID: rpId(ctx),
      // Counter 0 turns the library's own counter check off: the rule is applied below, after the
      // signature verified, so a forged answer can never be logged as a cloned key.
      credential: { id: key.credentialId, publicKey: new Uint8Array(Buffer.from(key.publicKey, 'base64url')), counter: 0, transports: toTransports(key.transports) },
      requireUserVerification: false,
    });
  } catch (err) {
    return refuse(refusalReason(err), { key: key.name });
  }
  if (!result.verified) return refuse('bad_signature', { key: key.name });

  return recordKeyUse(ctx, key, result.authenticationInfo.newCounter, now, meta, during, refuse);
}

/**
 * The counter rule after a verified signature (WebAuthn §6.1.1), shared by every use of a key or
 * passkey. The counter moves only by a conditional UPDATE; when another use moved it in between,
 * it is read again.
 */
export async function recordKeyUse(
  ctx: Context,
  key: SecurityKey,
  received: number,
  now: number,
  meta: RequestMeta,
  during: string,
  refuse: (reason: string, detail?: Record<string, string>) => Promise<never>,
): Promise<SecurityKey> {
  let stored = key.counter;
  for (let i = 0; i < 5; i++) {
    if (checkCounter(stored, received) === 'possibly_cloned') {
      await logEvent(ctx, key.userId, 'security_key_possibly_cloned', meta, { key: key.name, storedCounter: stored, receivedCounter: received, during });
      const what = key.kind === 'passkey' ? 'passkey' : 'security key';
      throw keyRefused(
        `The ${what} “${key.name}” was refused: its use counter went backwards, which can mean it was copied. Use another way to confirm it is you, and consider removing it.`,
      );
    }
    if (await recordSecurityKeyUse(ctx.db, key.id, stored, received, now)) return { ...key, counter: received, lastUsedAt: now };
    const current = await findSecurityKey(ctx.db, key.userId, key.id);
    if (!current) return refuse('unknown_credential');
    stored = current.counter;
  }
  return refuse('counter_contention', { key: key.name });
}

/** POST /login/two-factor with method 'webauthn': finishes a pending login with a key. */
export async function loginWithSecurityKey(
  ctx: Context,
  pending: ActiveSession,
  input: { response: unknown; trustDevice?: boolean | undefined },
  meta: RequestMeta,
): Promise<TwoFactorLoginResult> {
  checkMethodAvailable(await twoFactorStatus(ctx.db, pending.session.userId), 'webauthn');
  await countSecondFactor('webauthn', verifyAssertion(ctx, pending.session, 'authentication', input.response, meta));
  return finishTwoFactorLogin(ctx, pending, { method: 'webauthn' }, input.trustDevice === true, meta);
}

/** POST /me/reauthenticate with method 'webauthn': the password and a key make the session fresh. */
export async function reauthenticateWithSecurityKey(
  ctx: Context,
  session: { id: string; userId: string },
  input: { password: string; response: unknown },
  meta: RequestMeta,
): Promise<void> {
  await confirmPassword(ctx, session.userId, input.password, meta, 'reauthenticate');
  checkMethodAvailable(await twoFactorStatus(ctx.db, session.userId), 'webauthn');
  await countSecondFactor('webauthn', verifyAssertion(ctx, session, 'reauthentication', input.response, meta));
  await markSessionAuthenticated(ctx.db, session.id, ctx.clock.now(), combineAmr(['pwd', 'hwk']));
  await logEvent(ctx, session.userId, 'reauthenticated', meta, { method: 'webauthn' });
}
