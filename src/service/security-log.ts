import { recordEvent } from '../store/security-log.js';
import type { Context, RequestMeta } from './context.js';

/** The security event types (SPEC §3); the pages translate them into plain words. */
export type SecurityEventType =
  | 'signup'
  | 'login'
  | 'login_failed'
  | 'logout'
  | 'second_factor_failed'
  | 'lockout'
  | 'two_factor_enabled'
  | 'authenticator_app_added'
  | 'two_factor_disabled'
  | 'recovery_code_used'
  | 'recovery_codes_viewed'
  | 'recovery_codes_regenerated'
  | 'security_key_added'
  | 'security_key_removed'
  | 'security_key_failed'
  | 'security_key_possibly_cloned'
  | 'security_key_renamed'
  | 'passkey_added'
  | 'passkey_removed'
  | 'passkey_renamed'
  | 'device_trusted'
  | 'device_revoked'
  | 'trusted_devices_revoked'
  | 'reauthenticated'
  | 'password_changed'
  | 'admin_two_factor_reset'
  | 'groups_changed';

export function logEvent(
  ctx: Context,
  userId: string,
  type: SecurityEventType,
  meta: RequestMeta,
  detail?: Record<string, string | number | boolean>,
): Promise<void> {
  return recordEvent(ctx.db, ctx.random, { userId, type, at: ctx.clock.now(), ip: meta.ip, userAgent: meta.userAgent, detail });
}
