import type { AmrValue } from './amr.js';
import type { Clock } from './clock.js';
import { randomToken, type RandomSource } from './random.js';
import { hashToken } from './token.js';

export interface SessionPolicy {
  idleMs: number;
  maxMs: number;
  /** A login waiting for its second factor dies after this. */
  pendingMs: number;
  /** How long a full authentication counts as fresh for sensitive changes. */
  freshMs: number;
}

export const PENDING_LOGIN_MS = 5 * 60_000;
export const FRESH_AUTH_MS = 10 * 60_000;
/** lastSeenAt is rewritten at most this often, so a busy session does not write on every request. */
export const TOUCH_INTERVAL_MS = 60_000;

export function sessionPolicy(idleMs: number, maxMs: number): SessionPolicy {
  return { idleMs, maxMs, pendingMs: PENDING_LOGIN_MS, freshMs: FRESH_AUTH_MS };
}

export interface Session {
  /** SHA-256 of the cookie token; the token itself is never stored. */
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** True while the password step is done but the second factor is not. */
  pending: boolean;
  /** When the person last proved every factor the account has; null after a trusted-device login. */
  authenticatedAt: number | null;
  ip: string | null;
  userAgent: string | null;
  /** What this login proved (RFC 8176), plus factors set up in this session since. */
  amr: AmrValue[];
}

export interface NewSessionInput {
  userId: string;
  pending: boolean;
  /** Whether this login proved every factor (false for a trusted-device skip and for pending logins). */
  fullyAuthenticated: boolean;
  amr: AmrValue[];
  ip: string | null;
  userAgent: string | null;
}

export function createSession(input: NewSessionInput, clock: Clock, random: RandomSource): { token: string; session: Session } {
  const token = randomToken(random);
  const now = clock.now();
  return {
    token,
    session: {
      id: hashToken(token),
      userId: input.userId,
      createdAt: now,
      lastSeenAt: now,
      pending: input.pending,
      authenticatedAt: input.fullyAuthenticated && !input.pending ? now : null,
      ip: input.ip,
      userAgent: input.userAgent,
      amr: input.amr,
    },
  };
}

/** The moment after which the session is dead, whichever limit comes first. */
export function sessionExpiresAt(s: Pick<Session, 'createdAt' | 'lastSeenAt' | 'pending'>, policy: SessionPolicy): number {
  if (s.pending) return s.createdAt + policy.pendingMs;
  return Math.min(s.lastSeenAt + policy.idleMs, s.createdAt + policy.maxMs);
}

export function isSessionExpired(s: Pick<Session, 'createdAt' | 'lastSeenAt' | 'pending'>, policy: SessionPolicy, now: number): boolean {
  return now >= sessionExpiresAt(s, policy);
}

export function needsTouch(s: Pick<Session, 'lastSeenAt'>, now: number): boolean {
  return now - s.lastSeenAt >= TOUCH_INTERVAL_MS;
}

/** SPEC §3: sensitive changes need a full authentication within the last 10 minutes. */
export function isFresh(s: Pick<Session, 'authenticatedAt' | 'pending'>, policy: SessionPolicy, now: number): boolean {
  return !s.pending && s.authenticatedAt !== null && now - s.authenticatedAt < policy.freshMs;
}
