import type { Clock } from './clock.js';
import { randomToken, type RandomSource } from './random.js';
import { hashToken } from './token.js';

/** SPEC §3: valid 30 days from the moment it was trusted, not sliding with use. */
export const TRUSTED_DEVICE_MS = 30 * 24 * 60 * 60 * 1000;

export interface NewTrustedDevice {
  /** Goes into the cookie only; never stored. */
  token: string;
  tokenHash: string;
  label: string;
  createdAt: number;
  expiresAt: number;
}

export function newTrustedDevice({ userAgent }: { userAgent: string | null }, clock: Clock, random: RandomSource): NewTrustedDevice {
  const token = randomToken(random);
  const createdAt = clock.now();
  return {
    token,
    tokenHash: hashToken(token),
    label: deviceLabel(userAgent),
    createdAt,
    expiresAt: createdAt + TRUSTED_DEVICE_MS,
  };
}

// Order matters: most browsers also claim to be the ones they descend from (Edge says Chrome and
// Safari, Chrome says Safari), so the more specific token is tested first.
const BROWSERS: readonly (readonly [string, readonly string[]])[] = [
  ['Edge', ['Edg/', 'EdgA/', 'EdgiOS/', 'Edge/']],
  ['Opera', ['OPR/', 'OPiOS/', 'Opera']],
  ['Samsung Internet', ['SamsungBrowser/']],
  ['Firefox', ['Firefox/', 'FxiOS/']],
  ['Chromium', ['Chromium/']],
  ['Chrome', ['CriOS/', 'Chrome/']],
  ['Safari', ['Safari/']],
];

// iOS claims "like Mac OS X" and Android claims Linux, so those are tested before macOS and Linux.
const SYSTEMS: readonly (readonly [string, readonly string[]])[] = [
  ['iPhone', ['iPhone']],
  ['iPad', ['iPad']],
  ['Android', ['Android']],
  ['ChromeOS', ['CrOS']],
  ['Windows', ['Windows']],
  ['macOS', ['Macintosh', 'Mac OS X']],
  ['Linux', ['Linux', 'X11']],
];

const APPLE_SYSTEMS = new Set(['iPhone', 'iPad', 'macOS']);

function firstMatch(ua: string, table: readonly (readonly [string, readonly string[]])[]): string | null {
  for (const [name, needles] of table) {
    if (needles.some((needle) => ua.includes(needle))) return name;
  }
  return null;
}

/**
 * A human name for the device list. Built only from the fixed names above, never from the header
 * itself, so the label is always short and cannot carry attacker text; plain substring tests keep
 * the cost linear in a (truncated) header.
 */
export function deviceLabel(userAgent: string | null): string {
  if (userAgent === null) return 'Unknown browser';
  const ua = userAgent.slice(0, 1024);
  const system = firstMatch(ua, SYSTEMS);
  let browser = firstMatch(ua, BROWSERS);
  // Android web views also send "Safari/"; only Apple systems run the real one.
  if (browser === 'Safari' && system !== null && !APPLE_SYSTEMS.has(system)) browser = null;
  if (system === null) return browser ?? 'Unknown browser';
  return `${browser ?? 'Unknown browser'} on ${system}`;
}

/** A device token only skips the second factor for the account that trusted it, and only in time. */
export function isTrustedDeviceUsable(device: { userId: string; expiresAt: number }, userId: string, now: number): boolean {
  return device.userId === userId && now < device.expiresAt;
}
