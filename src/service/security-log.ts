import { recordEvent } from '../store/security-log.js';
import type { Context, RequestMeta } from './context.js';
import { noticeForEvent } from './mail/event-notices.js';
import { notify } from './mail/notify.js';
import { inTransaction } from './transaction.js';

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
  // SPEC §7 (mail)
  | 'email_verification_sent'
  | 'email_verified'
  | 'email_change_requested'
  | 'email_changed'
  | 'password_reset_requested'
  | 'password_reset'
  | 'password_reset_refused'
  | 'password_reset_required'
  | 'account_secured'
  | 'groups_changed';

/**
 * Writes the event to the account's security log. For the events SPEC §7 tells people about, the
 * email notice is queued in the same transaction as the log entry (the caller's, when it passes one).
 */
export async function logEvent(
  ctx: Context,
  userId: string,
  type: SecurityEventType,
  meta: RequestMeta,
  detail?: Record<string, string | number | boolean>,
): Promise<void> {
  const event = { userId, type, at: ctx.clock.now(), ip: meta.ip, userAgent: meta.userAgent, detail };
  const notice = await noticeForEvent(ctx, userId, type, meta, detail);
  if (!notice) {
    await recordEvent(ctx.db, ctx.random, event);
    return;
  }
  await inTransaction(ctx, async (t) => {
    const eventId = await recordEvent(t.db, t.random, event);
    await notify(t, { ...notice, eventId });
  });
}
