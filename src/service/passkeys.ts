import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { combineAmr } from '../core/amr.js';
import { challengeOfClientData, passkeyRequestOptions, passkeySignInRefusal, userHandleOf, type PasskeyRefusal } from '../core/passkey.js';
import { randomToken } from '../core/random.js';
import { challengeExpiresAt, CHALLENGE_TTL_MS } from '../core/security-key.js';
import { hashToken, isTokenShaped } from '../core/token.js';
import { consumePasskeyChallenge, savePasskeyChallenge } from '../store/passkey-challenges.js';
import { findSecurityKeyByCredentialId } from '../store/security-keys.js';
import type { Context, RequestMeta } from './context.js';
import { AppError } from './errors.js';
import { isAuthenticationResponse, notAnAnswer, recordKeyUse, refusalReason, rpId } from './security-keys.js';
import { logEvent } from './security-log.js';
import { credentialGenerationOf } from '../store/credential-generation.js';
import { startSession } from './sessions.js';
import { refuseIfLocked } from './accounts.js';
import { knownDeviceToken } from './password-throttle.js';
import { webauthn } from './webauthn-module.js';

/*
 * Passwordless sign-in with a passkey (SPEC §10). The browser is asked for any passkey of this site
 * (no allowed-credential list, so autofill can offer them) with user verification required; the
 * verified PIN or biometric and the key together are both factors, so the session is complete and
 * fresh at once and no trusted device is involved. No session exists before, so the challenge is
 * bound to the browser by a ceremony cookie (its hash in the row) and is found by the challenge the
 * signed answer names; taking it is one conditional DELETE, so it is single-use across nodes.
 */

/** The ceremony cookie outlives its challenges by nothing: 5 minutes, renewed with each request. */
export const PASSKEY_CEREMONY_TTL_MS = CHALLENGE_TTL_MS;

/** Refusals at passkey sign-in: 401, with words a person can act on. */
export function passkeyRefused(code: 'unknown_passkey' | 'invalid_passkey' | 'passkey_request_expired', message: string): AppError {
  return new AppError(401, code, message);
}

export const UNKNOWN_PASSKEY_MESSAGE =
  'This passkey is not registered here: it was removed from its account, or never added. Log in with your email and password instead.';

const MESSAGES: Record<Exclude<PasskeyRefusal, 'unknown_credential'> | 'invalid_response' | 'expired' | 'missing', string> = {
  not_a_passkey: 'That is a security key added as a second step, not a passkey. Log in with your email and password, then use the key.',
  no_user_verification:
    'Your device did not check your PIN, fingerprint or face, so the passkey cannot sign you in on its own. Try again and confirm it when asked, or log in with your email and password.',
  no_user_handle: 'The passkey did not say which account it belongs to. Try again, or log in with your email and password.',
  wrong_user_handle: 'The passkey did not say which account it belongs to. Try again, or log in with your email and password.',
  invalid_response: 'The passkey’s answer could not be verified. Try again, or log in with your email and password.',
  expired: 'The passkey request expired (they last 5 minutes). Try again.',
  missing: 'There is no passkey request waiting: it was used already or never started. Try again.',
};

/**
 * POST /login/passkey/options. Returns the options and the ceremony token for the cookie: the one the
 * browser already has (several requests of one browser may be open at once), or a new one.
 */
export async function passkeySignInOptions(ctx: Context, ceremonyToken: string | undefined): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; ceremonyToken: string }> {
  const token = ceremonyToken && isTokenShaped(ceremonyToken) ? ceremonyToken : randomToken(ctx.random);
  const wanted = passkeyRequestOptions(rpId(ctx), Buffer.from(ctx.random.bytes(32)).toString('base64url'), CHALLENGE_TTL_MS);
  const options = await (await webauthn()).generateAuthenticationOptions({
    rpID: wanted.rpId,
    challenge: new Uint8Array(Buffer.from(wanted.challenge, 'base64url')),
    timeout: wanted.timeout,
    userVerification: wanted.userVerification,
  });
  const now = ctx.clock.now();
  await savePasskeyChallenge(ctx.db, { challenge: options.challenge, binding: hashToken(token), createdAt: now, expiresAt: challengeExpiresAt(now) });
  return { options, ceremonyToken: token };
}

export interface PasskeySignIn {
  token: string;
  userId: string;
  /** The device-recognition cookie's new value: a passkey sign-in is a sign-in. */
  knownDevice: string;
}

/**
 * POST /login/passkey: checks the answer and starts a full, fresh session. An unknown credential is
 * refused with `unknown_passkey`, so that the page can tell the browser to forget it.
 */
export async function signInWithPasskey(
  ctx: Context,
  ceremonyToken: string | undefined,
  response: unknown,
  meta: RequestMeta,
  replaces?: string | undefined,
): Promise<PasskeySignIn> {
  if (!isAuthenticationResponse(response)) throw notAnAnswer();
  const challenge = challengeOfClientData(response.response.clientDataJSON);
  if (!challenge) throw notAnAnswer();

  const now = ctx.clock.now();
  // Taken before anything else is checked, so every answer, good or bad, uses its challenge up.
  const taken = ceremonyToken && isTokenShaped(ceremonyToken) ? await consumePasskeyChallenge(ctx.db, challenge, hashToken(ceremonyToken)) : null;
  if (!taken) throw passkeyRefused('passkey_request_expired', MESSAGES.missing);
  if (now >= taken.expiresAt) throw passkeyRefused('passkey_request_expired', MESSAGES.expired);

  const key = await findSecurityKeyByCredentialId(ctx.db, response.id);
  if (!key) throw passkeyRefused('unknown_passkey', UNKNOWN_PASSKEY_MESSAGE);
  const refuse = async (reason: string, detail: Record<string, string> = {}): Promise<never> => {
    await logEvent(ctx, key.userId, 'security_key_failed', meta, { reason, during: 'passkey_login', key: key.name, ...detail });
    const known = (MESSAGES as Record<string, string | undefined>)[reason];
    throw passkeyRefused('invalid_passkey', known ?? MESSAGES.invalid_response);
  };
  if (key.kind !== 'passkey') return refuse('not_a_passkey');

  let result: Awaited<ReturnType<typeof import('@simplewebauthn/server').verifyAuthenticationResponse>>;
  try {
    result = await (await webauthn()).verifyAuthenticationResponse({
      response,
      expectedChallenge: taken.challenge,
      expectedOrigin: ctx.config.publicOrigin,
      expectedRPID: rpId(ctx),
      // Counter 0: the counter rule runs after the signature verified (recordKeyUse), as for keys.
      credential: { id: key.credentialId, publicKey: new Uint8Array(Buffer.from(key.publicKey, 'base64url')), counter: 0 },
      requireUserVerification: true,
    });
  } catch (err) {
    return refuse(refusalReason(err));
  }
  if (!result.verified) return refuse('bad_signature');
  // Our own reading of the signed flags and the user handle (WebAuthn §7.2), whatever the library did.
  const refusal = passkeySignInRefusal({
    key,
    authenticatorData: new Uint8Array(Buffer.from(response.response.authenticatorData, 'base64url')),
    userHandle: typeof response.response.userHandle === 'string' ? response.response.userHandle : null,
    expectedUserHandle: userHandleOf,
  });
  if (refusal) return refuse(refusal);

  // Read before the write that proves the passkey still exists: if every session of the account
  // ends (and its keys go) after this, the session below is dead on arrival.
  const credentialGeneration = await credentialGenerationOf(ctx.db, key.userId);
  try {
    await recordKeyUse(ctx, key, result.authenticationInfo.newCounter, now, meta, 'passkey_login', refuse);
  } catch (err) {
    // A counter that went backwards: the same words as for keys, under this route's code.
    if (err instanceof AppError && err.code === 'invalid_code') throw passkeyRefused('invalid_passkey', err.message);
    throw err;
  }
  // A locked account (SPEC §9) is refused only now that the passkey proved who is asking.
  await refuseIfLocked(ctx, key.userId, meta);
  const { token } = await startSession(
    ctx,
    { userId: key.userId, pending: false, fullyAuthenticated: true, amr: combineAmr(['hwk', 'user']), credentialGeneration, replaces },
    meta,
  );
  await logEvent(ctx, key.userId, 'login', meta, { method: 'passkey', key: key.name });
  return { token, userId: key.userId, knownDevice: knownDeviceToken(ctx, key.userId) };
}
