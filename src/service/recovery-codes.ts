import { generateRecoveryCodes, normalizeRecoveryCode, recoveryCodesText, formatRecoveryCode } from '../core/recovery-codes.js';
import { randomId } from '../core/random.js';
import { listRecoveryCodes, replaceRecoveryCodes, type StoredRecoveryCode } from '../store/recovery-codes.js';
import type { Context, RequestMeta } from './context.js';
import { AppError } from './errors.js';
import { logEvent } from './security-log.js';

/** The keyed hash is bound to the account, so one person's code is no use on another's. */
export function recoveryCodeMac(ctx: Context, userId: string, normalized: string): string {
  return ctx.box.mac('recovery-code', `${userId}:${normalized}`);
}

/** The hashes a typed code may be stored under: codes issued before a secret rotation still work. */
export function recoveryCodeMacs(ctx: Context, userId: string, normalized: string): string[] {
  return ctx.box.macs('recovery-code', `${userId}:${normalized}`);
}

const encContext = (userId: string, position: number) => `recovery-code:${userId}:${position}`;

/** Makes a new set of 10, kills every old one, and returns the new codes for showing once. */
export async function issueRecoveryCodes(ctx: Context, userId: string): Promise<string[]> {
  const codes = generateRecoveryCodes(ctx.random);
  const keep = ctx.config.recoveryCodes === 'viewable';
  const stored: StoredRecoveryCode[] = codes.map((code, position) => {
    const normalized = normalizeRecoveryCode(code)!;
    return {
      id: randomId(ctx.random),
      position,
      codeMac: recoveryCodeMac(ctx, userId, normalized),
      codeEnc: keep ? ctx.box.encrypt(normalized, encContext(userId, position)) : null,
      usedAt: null,
    };
  });
  await replaceRecoveryCodes(ctx.db, userId, stored, ctx.clock.now());
  return codes;
}

export async function regenerateRecoveryCodes(ctx: Context, userId: string, meta: RequestMeta): Promise<string[]> {
  const existing = await listRecoveryCodes(ctx.db, userId);
  if (existing.length === 0) throw twoFactorNotEnabled();
  const codes = await issueRecoveryCodes(ctx, userId);
  await logEvent(ctx, userId, 'recovery_codes_regenerated', meta);
  return codes;
}

export const twoFactorNotEnabled = () =>
  new AppError(409, 'two_factor_not_enabled', 'Two-factor authentication is not turned on, so there are no recovery codes.');

export interface ViewableCodes {
  codes: { code: string; used: boolean }[];
  remaining: number;
  createdAt: number;
}

export async function viewRecoveryCodes(ctx: Context, userId: string, meta: RequestMeta): Promise<ViewableCodes> {
  const rows = await listRecoveryCodes(ctx.db, userId);
  if (rows.length === 0) throw twoFactorNotEnabled();
  if (ctx.config.recoveryCodes === 'hashed' || rows.some((r) => r.codeEnc === null)) {
    throw new AppError(
      409,
      'codes_not_viewable',
      'Recovery codes are stored only as keyed hashes on this service and cannot be shown again. Generate a new set if you need them.',
    );
  }
  const codes = rows.map((r) => ({ code: formatRecoveryCode(ctx.box.decrypt(r.codeEnc!, encContext(userId, r.position))), used: r.usedAt !== null }));
  await logEvent(ctx, userId, 'recovery_codes_viewed', meta);
  return { codes, remaining: codes.filter((c) => !c.used).length, createdAt: rows[0]!.createdAt };
}

export function recoveryCodesFile(ctx: Context, account: string, view: ViewableCodes): string {
  return recoveryCodesText({ issuer: ctx.config.issuer, account, createdAt: view.createdAt, codes: view.codes });
}
