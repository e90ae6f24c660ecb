import type { SecurityEventType } from '../../service/security-log.js';
import type { SecurityEvent } from '../../store/security-log.js';

/**
 * Security log event types in plain words. Typed by the service's list, so a new type must get its
 * words here; a type from an older release that is no longer listed falls back to its name in words.
 */
export const EVENT_LABELS: Record<SecurityEventType, string> = {
  signup: 'Account created',
  login: 'Logged in',
  login_failed: 'Failed login',
  logout: 'Logged out',
  second_factor_failed: 'Wrong second-factor code',
  lockout: 'Login locked after too many wrong codes',
  two_factor_enabled: 'Two-factor authentication turned on',
  authenticator_app_added: 'Authenticator app added',
  two_factor_disabled: 'Two-factor authentication turned off',
  recovery_code_used: 'Recovery code used',
  recovery_codes_viewed: 'Recovery codes viewed',
  recovery_codes_regenerated: 'New recovery codes created',
  security_key_added: 'Security key added',
  security_key_removed: 'Security key removed',
  security_key_failed: 'Security key not accepted',
  security_key_possibly_cloned: 'Security key may have been copied',
  security_key_renamed: 'Security key renamed',
  passkey_added: 'Passkey added',
  passkey_removed: 'Passkey removed',
  passkey_renamed: 'Passkey renamed',
  device_trusted: 'Device trusted for 30 days',
  device_revoked: 'Trusted device revoked',
  trusted_devices_revoked: 'All trusted devices revoked',
  reauthenticated: 'Identity confirmed',
  password_changed: 'Password changed',
  admin_two_factor_reset: 'Two-factor authentication reset by the operator',
  session_revoked: 'Signed out a session',
  other_sessions_revoked: 'Signed out all other sessions',
  account_locked: 'Account locked by an administrator',
  account_unlocked: 'Account unlocked by an administrator',
  login_refused_locked: 'Login refused: the account is locked',
  admin_sessions_revoked: 'Signed out everywhere by an administrator',
  email_verification_sent: 'Email confirmation link sent',
  email_verified: 'Email address confirmed',
  email_change_requested: 'Email change asked for',
  email_changed: 'Email address changed',
  password_reset_requested: 'Password reset link sent',
  password_reset: 'Password reset',
  password_reset_refused: 'Password reset refused',
  password_reset_required: 'Login refused until the password is reset',
  account_secured: 'Account secured ("This wasn\u2019t me")',
  groups_changed: 'Groups changed',
  account_recovery_requested: 'Account recovery requested',
  account_recovery_scheduled: 'Account recovery confirmed; waiting period started',
  account_recovery_cancelled: 'Account recovery cancelled',
  account_recovery_approved: 'Account recovery approved by an administrator',
  account_recovery_completed: 'Account recovered: second factors removed',
};

const LOGIN_METHODS: Record<string, string> = {
  password: 'with password',
  totp: 'with authenticator app',
  webauthn: 'with security key',
  security_key: 'with security key',
  recovery_code: 'with a recovery code',
  trusted_device: 'on a trusted device',
  passkey: 'with a passkey',
};

const FAIL_REASONS: Record<string, string> = {
  password: 'wrong password',
  totp: 'wrong code',
  recovery_code: 'wrong recovery code',
  locked: 'locked',
};

function words(type: string): string {
  const s = type.replace(/[_-]+/g, ' ').trim();
  return s ? s[0]!.toUpperCase() + s.slice(1) : 'Event';
}

/** "Logged in with authenticator app", "Failed login: wrong password", … */
export function describeEvent(e: Pick<SecurityEvent, 'type' | 'detail'>): string {
  const label = (EVENT_LABELS as Record<string, string | undefined>)[e.type] ?? words(e.type);
  const method = e.detail?.method;
  if (e.type === 'login' && typeof method === 'string' && LOGIN_METHODS[method]) return `${label} ${LOGIN_METHODS[method]}`;
  const keyName = e.type.startsWith('security_key_') || e.type.startsWith('passkey_') ? (e.detail?.key ?? e.detail?.name) : undefined;
  if (typeof keyName === 'string' && keyName) return `${label}: “${keyName}”`;
  const reason = e.detail?.reason;
  if (e.type === 'login_failed' && typeof reason === 'string' && FAIL_REASONS[reason]) return `${label}: ${FAIL_REASONS[reason]}`;
  return label;
}

// Made at first use: a date format loads ICU's locale data, some 8 MB of memory a service that
// never renders a page (forward auth, the API) would carry for nothing.
let time: Intl.DateTimeFormat | undefined;

/** "3 May 2025, 14:05 UTC" (the server does not know the reader's time zone without JavaScript). */
export function formatTime(ms: number): string {
  time ??= new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return `${time.format(new Date(ms))} UTC`;
}

/** "Chrome on Linux", "Safari on iPhone", "curl"; a short plain name for a user agent. */
export function describeBrowser(ua: string | null): string {
  if (!ua) return 'Unknown browser';
  const browser =
    /\bEdg(e|A|iOS)?\//.test(ua) ? 'Edge'
    : /\bOPR\/|\bOpera\b/.test(ua) ? 'Opera'
    : /\bSamsungBrowser\//.test(ua) ? 'Samsung Internet'
    : /\bFirefox\/|\bFxiOS\//.test(ua) ? 'Firefox'
    : /\bHeadlessChrome\//.test(ua) ? 'Headless Chrome'
    : /\bChromium\//.test(ua) ? 'Chromium'
    : /\bChrome\/|\bCriOS\//.test(ua) ? 'Chrome'
    : /\bVersion\/[\d.]+.*\bSafari\//.test(ua) ? 'Safari'
    : undefined;
  const os =
    /\biPhone\b/.test(ua) ? 'iPhone'
    : /\biPad\b/.test(ua) ? 'iPad'
    : /\bAndroid\b/.test(ua) ? 'Android'
    : /\bCrOS\b/.test(ua) ? 'ChromeOS'
    : /\bWindows\b/.test(ua) ? 'Windows'
    : /\bMac OS X\b|\bMacintosh\b/.test(ua) ? 'macOS'
    : /\bLinux\b/.test(ua) ? 'Linux'
    : undefined;
  if (browser) return os ? `${browser} on ${os}` : browser;
  // Scripts and tools: their own product token, e.g. "curl/8.5.0" → "curl".
  const tool = /^([A-Za-z][\w.-]{0,40})\//.exec(ua);
  if (tool && tool[1] !== 'Mozilla') return tool[1]!;
  return os ? `Browser on ${os}` : 'Unknown browser';
}
