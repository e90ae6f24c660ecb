import type { FastifyReply, FastifyRequest } from 'fastify';
import { isFresh } from '../../core/session.js';
import { lockState } from '../../core/lockout.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import type { ActiveSession } from '../../service/sessions.js';
import { findAttempts } from '../../store/attempts.js';
import { Field, formFailure, type FormFailure } from './forms.js';
import { safeNext, withNext } from './next-path.js';

/** Which kind of code a second-factor form asks for. */
export type CodeMode = 'totp' | 'recovery_code';

export function codeModeOf(value: unknown): CodeMode {
  return value === 'recovery_code' ? 'recovery_code' : 'totp';
}

/** `path` with `method=recovery_code` when that mode is wanted, and `next` kept. */
export function modeUrl(path: string, mode: CodeMode, next: string | undefined): string {
  return withNext(mode === 'recovery_code' ? `${path}?method=recovery_code` : path, next);
}

/** The one code field of a second-factor form: "Verification code" or "Recovery code". */
export function CodeField({ mode, error, autofocus, hint }: { mode: CodeMode; error?: string | undefined; autofocus?: boolean; hint?: string }) {
  return mode === 'totp' ? (
    <Field
      name="code"
      label="Verification code"
      hint={hint}
      inputmode="numeric"
      autocomplete="one-time-code"
      pattern="[0-9 ]*"
      maxLength={12}
      spellcheck={false}
      inputClass="input-code"
      required
      autofocus={autofocus}
      error={error}
    />
  ) : (
    <Field
      name="code"
      label="Recovery code"
      hint={hint ?? 'It looks like xxxx-xxxx-xxxx-xxxx. Each code works only once.'}
      autocomplete="off"
      autocapitalize="none"
      spellcheck={false}
      maxLength={64}
      inputClass="input-recovery"
      required
      autofocus={autofocus}
      error={error}
    />
  );
}

export function emptyCodeMessage(mode: CodeMode): string {
  return mode === 'totp' ? 'Enter the 6-digit code from your authenticator app.' : 'Enter one of your recovery codes.';
}

/** "Too many wrong codes. Try again in 4 minutes." from the lock's Retry-After seconds. */
export function lockMessage(retryAfterS: number): string {
  const m = Math.max(1, Math.ceil(retryAfterS / 60));
  return `Too many wrong codes. Try again in ${m} minute${m === 1 ? '' : 's'}.`;
}

function lockFailure(retryAfterS: number): FormFailure {
  return { status: 429, headers: { 'retry-after': String(retryAfterS) }, fields: { code: lockMessage(retryAfterS) } };
}

/**
 * A refused code in the words of the page. A wrong code that was the one too many (the fifth) is
 * shown as the lock it started, so the person learns at once how long to wait instead of on the
 * next try.
 */
export async function codeFailure(ctx: Context, userId: string, err: unknown): Promise<FormFailure> {
  if (err instanceof AppError && err.code === 'too_many_attempts') {
    const s = Number(err.headers['retry-after']);
    return lockFailure(Number.isFinite(s) && s > 0 ? s : 60);
  }
  if (err instanceof AppError && err.code === 'invalid_code') {
    const state = lockState(await findAttempts(ctx.db, userId), ctx.clock.now());
    if (state.locked) return lockFailure(state.retryAfterS);
  }
  if (err instanceof AppError && err.code === 'invalid_credentials') {
    return { status: err.statusCode, headers: err.headers, fields: { password: 'That password is not right.' } };
  }
  return formFailure(err);
}

/** True when a sensitive change may go ahead without asking for the password again. */
export function fresh(ctx: Context, auth: ActiveSession): boolean {
  return isFresh(auth.session, ctx.policy, ctx.clock.now());
}

/** Off to "Confirm it's you", returning to `next` afterwards. */
export function toReauthenticate(reply: FastifyReply, next: string): FastifyReply {
  return reply.redirect(withNext('/reauthenticate', next), 303);
}

export function isReauthRequired(err: unknown): boolean {
  return err instanceof AppError && err.code === 'reauthentication_required';
}

/**
 * Where a POSTed action returns after re-authentication: the page that had its button (sent as the
 * hidden `return_to` field), so the person can click again; else `fallback`.
 */
export function returnTo(request: FastifyRequest, fallback: string): string {
  const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  return safeNext(Object.hasOwn(body, 'return_to') ? body.return_to : undefined) ?? fallback;
}

/** The hidden field naming the page a POST form is on. */
export function ReturnTo({ path }: { path: string }) {
  return <input type="hidden" name="return_to" value={path} />;
}
