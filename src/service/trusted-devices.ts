import { newTrustedDevice } from '../core/trusted-device.js';
import { randomId } from '../core/random.js';
import { hashToken, isTokenShaped } from '../core/token.js';
import { deleteTrustedDevice, deleteUserTrustedDevices, insertTrustedDevice, listTrustedDevices } from '../store/trusted-devices.js';
import type { Context, RequestMeta } from './context.js';
import { notFound } from './errors.js';
import { logEvent } from './security-log.js';

/**
 * Remembers this browser for 30 days; the token goes into a cookie, only its hash is kept. It is
 * stamped with the credential generation of the login that asked for it (the pending login's), so
 * it dies with everything else when every session of the account ends, even in a race.
 */
export async function trustDevice(ctx: Context, userId: string, meta: RequestMeta, credentialGeneration: number): Promise<{ token: string; expiresAt: number }> {
  const d = newTrustedDevice({ userAgent: meta.userAgent }, ctx.clock, ctx.random);
  await insertTrustedDevice(ctx.db, {
    id: randomId(ctx.random),
    userId,
    tokenHash: d.tokenHash,
    label: d.label,
    createdAt: d.createdAt,
    expiresAt: d.expiresAt,
    lastUsedAt: d.createdAt,
    credentialGeneration,
  });
  await logEvent(ctx, userId, 'device_trusted', meta, { device: d.label });
  return { token: d.token, expiresAt: d.expiresAt };
}

export interface DeviceView {
  id: string;
  label: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  current: boolean;
}

export async function listDevices(ctx: Context, userId: string, currentToken: string | undefined): Promise<DeviceView[]> {
  const currentHash = currentToken && isTokenShaped(currentToken) ? hashToken(currentToken) : null;
  const devices = await listTrustedDevices(ctx.db, userId, ctx.clock.now());
  return devices.map((d) => ({
    id: d.id,
    label: d.label,
    createdAt: new Date(d.createdAt).toISOString(),
    expiresAt: new Date(d.expiresAt).toISOString(),
    lastUsedAt: d.lastUsedAt === null ? null : new Date(d.lastUsedAt).toISOString(),
    current: d.tokenHash === currentHash,
  }));
}

export async function revokeDevice(ctx: Context, userId: string, id: string, meta: RequestMeta): Promise<void> {
  const removed = await deleteTrustedDevice(ctx.db, userId, id);
  if (!removed) throw notFound('That trusted device');
  await logEvent(ctx, userId, 'device_revoked', meta, { device: removed.label });
}

/** Disable, password change, admin reset and a recovery-code login all end every trusted device. */
export async function revokeAllDevices(ctx: Context, userId: string, meta: RequestMeta, because: string): Promise<number> {
  const n = await deleteUserTrustedDevices(ctx.db, userId);
  if (n > 0) await logEvent(ctx, userId, 'trusted_devices_revoked', meta, { count: n, because });
  return n;
}
