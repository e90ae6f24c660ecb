import { randomId, randomToken } from '../../core/random.js';
import { hashToken } from '../../core/token.js';
import { TOUCH_INTERVAL_MS } from '../../core/session.js';
import { findLiveAdminToken, insertAdminToken, listAdminTokens, revokeAdminToken, touchAdminToken, type AdminToken } from '../../store/admin-tokens.js';
import type { Context } from '../context.js';
import { AppError, notFound } from '../errors.js';

/** Admin tokens carry a recognisable prefix, so a secret scanner (or a person) can tell one on sight. */
export const ADMIN_TOKEN_PREFIX = 'twofold_admin_';
const TOKEN_SHAPE = /^twofold_admin_[A-Za-z0-9_-]{43}$/;

/** Creates a token; the token itself is returned this once, only its SHA-256 is stored. */
export async function createAdminToken(ctx: Context, name: string): Promise<{ id: string; name: string; token: string }> {
  const clean = name.trim();
  if (clean.length < 1 || clean.length > 64 || /[\u0000-\u001f\u007f]/.test(clean)) {
    throw new AppError(400, 'invalid_name', 'A token name is 1–64 characters, without control characters.');
  }
  const token = ADMIN_TOKEN_PREFIX + randomToken(ctx.random);
  const id = randomId(ctx.random).slice(0, 12);
  await insertAdminToken(ctx.db, { id, name: clean, tokenHash: hashToken(token), createdAt: ctx.clock.now() });
  return { id, name: clean, token };
}

export function listTokens(ctx: Context): Promise<AdminToken[]> {
  return listAdminTokens(ctx.db);
}

export async function revokeToken(ctx: Context, id: string): Promise<void> {
  if (!(await revokeAdminToken(ctx.db, id, ctx.clock.now()))) throw notFound(`A live token with id ${id}`);
}

/** The live token a bearer secret stands for, or null (malformed, unknown or revoked). */
export async function verifyAdminToken(ctx: Context, token: string): Promise<AdminToken | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const found = await findLiveAdminToken(ctx.db, hashToken(token));
  if (!found) return null;
  const now = ctx.clock.now();
  if (found.lastUsedAt === null || now - found.lastUsedAt >= TOUCH_INTERVAL_MS) {
    await touchAdminToken(ctx.db, found.id, now);
  }
  return found;
}
