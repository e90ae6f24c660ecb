import { timingSafeEqual } from 'node:crypto';
import { FREE_FAILURES, retryAfterSeconds, type ThrottleScope } from '../core/password-throttle.js';
import { clearPasswordAttempts, claimPasswordAttempt, findPasswordAttempts } from '../store/password-attempts.js';
import type { Context } from './context.js';
import type { SecretBox } from '../core/secret-box.js';
import { AppError } from './errors.js';

/** How long a browser stays recognised after signing in (browsers cap cookies at 400 days). */
export const KNOWN_DEVICE_MAX_AGE_MS = 365 * 24 * 3_600_000;

const KNOWN_DEVICE_PURPOSE = 'known-device v1';
const TOKEN_SHAPE = /^v1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * The device-recognition cookie's value: a random nonce and a keyed hash binding it to one account.
 * It is not a "trusted device" and skips nothing; it only lets a browser that has signed in to the
 * account before keep a small password budget of its own while the address is throttled. Being an
 * HMAC, it needs no table and cannot be made for an account without TWOFOLD_SECRET.
 */
export function knownDeviceToken(ctx: Context, userId: string): string {
  return knownDeviceTokenWith(ctx.box, userId, Buffer.from(ctx.random.bytes(16)).toString('base64url'));
}

/** The token for a given nonce (22 base64url characters); the bench makes returning browsers' cookies with it. */
export function knownDeviceTokenWith(box: SecretBox, userId: string, nonce: string): string {
  return `v1.${nonce}.${box.mac(KNOWN_DEVICE_PURPOSE, `${userId}\u0000${nonce}`)}`;
}

/** The token's nonce when it was made for `userId` (under the current or a previous secret). */
function recognisedNonce(ctx: Context, token: string | undefined, userId: string | null): string | null {
  const m = token ? TOKEN_SHAPE.exec(token) : null;
  if (!m || userId === null) return null;
  const given = Buffer.from(m[2]!);
  const ok = ctx.box.macs(KNOWN_DEVICE_PURPOSE, `${userId}\u0000${m[1]}`).some((mac) => {
    const b = Buffer.from(mac);
    return b.length === given.length && timingSafeEqual(b, given);
  });
  return ok ? m[1]! : null;
}

/** Whether this browser's recognition cookie was made for `userId` (it signed in to the account before). */
export function isRecognisedDevice(ctx: Context, token: string | undefined, userId: string): boolean {
  return recognisedNonce(ctx, token, userId) !== null;
}

export function tooManyPasswordAttempts(retryAfterS: number): AppError {
  const wait = retryAfterS < 60 ? `${retryAfterS} second${retryAfterS === 1 ? '' : 's'}` : `${Math.ceil(retryAfterS / 60)} minute${Math.ceil(retryAfterS / 60) === 1 ? '' : 's'}`;
  return new AppError(
    429,
    'too_many_attempts',
    `Too many wrong passwords for this email address. For your security, try again in ${wait}.`,
    { 'retry-after': String(retryAfterS) },
    'password',
  );
}

/** A claimed password check: which count it was drawn from, to clear on success. */
export interface PasswordClaim {
  key: string;
  scope: ThrottleScope;
  failures: number;
}

async function refusal(ctx: Context, key: string, scope: ThrottleScope): Promise<AppError> {
  const a = await findPasswordAttempts(ctx.db, key);
  const s = a ? retryAfterSeconds(a.failures, a.lastFailureAt, FREE_FAILURES[scope], ctx.clock.now()) : 0;
  return tooManyPasswordAttempts(Math.max(1, s));
}

/**
 * Claims one password check for `address` (already normalised), before the password is checked.
 * The address's own count is tried first; while it makes everyone wait, a browser recognised for
 * `userId` draws on its own smaller count instead. Unknown and known addresses take the same steps
 * (an unknown one simply never has a recognised browser), so the answers tell them apart no more
 * than a wrong password does. Throws 429 `too_many_attempts` with Retry-After.
 */
export async function claimPasswordCheck(
  ctx: Context,
  input: { address: string; userId: string | null; knownDevice: string | undefined },
): Promise<PasswordClaim> {
  const now = ctx.clock.now();
  const addressKey = `address:${ctx.box.mac('password-throttle address', input.address)}`;
  const failures = await claimPasswordAttempt(ctx.db, addressKey, FREE_FAILURES.address, now);
  if (failures !== null) return { key: addressKey, scope: 'address', failures };
  const nonce = recognisedNonce(ctx, input.knownDevice, input.userId);
  if (nonce === null) throw await refusal(ctx, addressKey, 'address');
  const deviceKey = `device:${ctx.box.mac('password-throttle device', `${input.userId}\u0000${nonce}`)}`;
  const deviceFailures = await claimPasswordAttempt(ctx.db, deviceKey, FREE_FAILURES.device, now);
  if (deviceFailures === null) throw await refusal(ctx, deviceKey, 'device');
  return { key: deviceKey, scope: 'device', failures: deviceFailures };
}

/** The right password: the count it was drawn from starts again (the other one does not). */
export async function passwordCheckSucceeded(ctx: Context, claim: PasswordClaim): Promise<void> {
  await clearPasswordAttempts(ctx.db, claim.key);
}
