import type { Context, RequestMeta } from '../context.js';
import type { Notice } from './notify.js';

type Detail = Record<string, string | number | boolean> | undefined;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Which security-log events are told to the person by email (SPEC §7), and what each notice says
 * and undoes. Null: the event is only logged. Events of features to come (passkeys, admin actions,
 * recovery) call notify() themselves or add their type here.
 */
export async function noticeForEvent(ctx: Context, userId: string, type: string, meta: RequestMeta, detail: Detail): Promise<Omit<Notice, 'eventId'> | null> {
  const base = { userId, meta };
  switch (type) {
    case 'two_factor_enabled':
      // A first security key turns 2FA on too; its own "key added" notice tells of it (one message).
      return detail?.method === 'webauthn' ? null : { ...base, kind: 'two_factor_enabled', added: { factor: 'totp' } };
    case 'authenticator_app_added':
      return { ...base, kind: 'authenticator_app_added', added: { factor: 'totp' } };
    case 'two_factor_disabled':
      // Removing the last key says so in its own notice.
      return detail?.because === 'last_security_key_removed' ? null : { ...base, kind: 'two_factor_disabled' };
    case 'admin_two_factor_reset':
      return detail?.wasEnabled === false ? null : { ...base, kind: 'two_factor_disabled', detail: { by: 'operator' } };
    case 'security_key_added': {
      const name = str(detail?.name);
      return { ...base, kind: 'security_key_added', detail: name ? { keyName: name } : {}, ...(name ? { added: { factor: 'security_key', name } } : {}) };
    }
    case 'passkey_added': {
      const name = str(detail?.name);
      // Keys and passkeys share one list with unique names, so the name finds it again.
      return { ...base, kind: 'passkey_added', detail: name ? { keyName: name } : {}, ...(name ? { added: { factor: 'security_key', name } } : {}) };
    }
    case 'security_key_removed':
    case 'passkey_removed':
      return { ...base, kind: type, detail: str(detail?.name) ? { keyName: str(detail?.name)! } : {} };
    case 'recovery_codes_viewed':
    case 'recovery_codes_regenerated':
    case 'password_changed':
    case 'password_reset':
      return { ...base, kind: type };
    case 'recovery_code_used':
      return { ...base, kind: 'recovery_code_used', detail: { remaining: typeof detail?.remaining === 'number' ? detail.remaining : 0 } };
    case 'device_trusted':
      return { ...base, kind: 'device_trusted', detail: str(detail?.device) ? { device: str(detail?.device)! } : {} };
    case 'lockout':
      return { ...base, kind: 'lockout', detail: typeof detail?.retryAfterSeconds === 'number' ? { retryAfterSeconds: detail.retryAfterSeconds } : {} };
    case 'login':
      if (!ctx.config.notifyNewDevice) return null;
      return (await isNewBrowser(ctx, userId, meta)) ? { ...base, kind: 'new_device_sign_in' } : null;
    default:
      return null;
  }
}

/**
 * A browser "new to the account": no earlier sign-in or signup of the account came with the same
 * user agent. (Coarse on purpose: it needs no cookie, and a false "new" costs one message.)
 */
async function isNewBrowser(ctx: Context, userId: string, meta: RequestMeta): Promise<boolean> {
  let q = ctx.db.selectFrom('security_events').select('id').where('user_id', '=', userId).where('type', 'in', ['login', 'signup']);
  q = meta.userAgent === null ? q.where('user_agent', 'is', null) : q.where('user_agent', '=', meta.userAgent);
  return (await q.limit(1).executeTakeFirst()) === undefined;
}
