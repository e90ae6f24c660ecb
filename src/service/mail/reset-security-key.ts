import type { PublicKeyCredentialRequestOptionsJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { webauthn } from '../webauthn-module.js';
import { challengeExpiresAt, credentialOwnership } from '../../core/security-key.js';
import { setTokenChallenge, takeTokenChallenge } from '../../store/email-tokens.js';
import { findSecurityKeyByCredentialId, listSecurityKeys } from '../../store/security-keys.js';
import type { Context, RequestMeta } from '../context.js';
import { AppError } from '../errors.js';
import { isAuthenticationResponse, keyRefused, notAnAnswer, recordKeyUse, refusalReason, rpId, toTransports } from '../security-keys.js';
import { logEvent } from '../security-log.js';
import type { ResetLink } from './password-reset.js';

/*
 * A security key as the second factor of a password reset. There is no session on the reset page,
 * so the WebAuthn challenge is kept on the reset link's own row: single use, 5 minutes, and only
 * for the account the link belongs to. A key cannot be guessed, so it needs no code lock (as at login).
 */

export async function resetKeyOptions(ctx: Context, link: ResetLink): Promise<PublicKeyCredentialRequestOptionsJSON> {
  if (!link.twoFactor.securityKeys) throw new AppError(400, 'method_not_available', 'This account has no security key.');
  const keys = await listSecurityKeys(ctx.db, link.user.id);
  const { generateAuthenticationOptions } = await webauthn();
  const options = await generateAuthenticationOptions({
    rpID: rpId(ctx),
    challenge: new Uint8Array(ctx.random.bytes(32)),
    allowCredentials: keys.map((k) => ({ id: k.credentialId, transports: toTransports(k.transports ?? undefined) })),
    userVerification: 'discouraged',
    timeout: 120_000,
  });
  await setTokenChallenge(ctx.db, link.token.id, options.challenge, challengeExpiresAt(ctx.clock.now()));
  return options;
}

/** Verifies the key's answer against the link's challenge (used up whatever the outcome). */
export async function verifyResetKey(ctx: Context, link: ResetLink, response: unknown, meta: RequestMeta): Promise<void> {
  const userId = link.user.id;
  const refuse = async (reason: string, detail: Record<string, string> = {}): Promise<never> => {
    await logEvent(ctx, userId, 'security_key_failed', meta, { reason, during: 'password_reset', ...detail });
    throw keyRefused();
  };
  if (!isAuthenticationResponse(response)) throw notAnAnswer();
  const now = ctx.clock.now();
  const challenge = await takeTokenChallenge(ctx.db, link.token.id, now);
  if (!challenge) return refuse('challenge_missing');
  const key = await findSecurityKeyByCredentialId(ctx.db, response.id);
  if (!key || credentialOwnership(key, userId) === 'unknown') return refuse('unknown_credential');
  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    result = await (await webauthn()).verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: ctx.config.publicOrigin,
      expectedRPID: rpId(ctx),
      credential: { id: key.credentialId, publicKey: new Uint8Array(Buffer.from(key.publicKey, 'base64url')), counter: 0, transports: toTransports(key.transports ?? undefined) },
      requireUserVerification: false,
    });
  } catch (err) {
    return refuse(refusalReason(err), { key: key.name });
  }
  if (!result.verified) return refuse('bad_signature', { key: key.name });
  await recordKeyUse(ctx, key, result.authenticationInfo.newCounter, now, meta, 'password_reset', refuse);
}
