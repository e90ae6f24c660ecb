/**
 * SPEC §3 brute force rule. Failures of every guessable method (app codes and recovery codes) are
 * counted together per account, so spreading guesses over methods or nodes gains nothing.
 */
export const MAX_FAILURES = 5;
export const BASE_LOCK_MS = 60_000;
export const MAX_LOCK_MS = 3_600_000;

export interface FailedAttempts {
  /** Consecutive failures since the last success. */
  failures: number;
  lastFailureAt: number;
}

export type LockState = { locked: false } | { locked: true; until: number; retryAfterS: number };

/** 1 minute at the 5th failure, doubling with each further one, capped at 1 hour. */
export function lockDurationMs(failures: number): number {
  // Written as a negated >= so NaN also counts as "not locked" rather than poisoning the maths.
  if (!(failures >= MAX_FAILURES)) return 0;
  // The exponent is bounded so a huge count cannot overflow to Infinity before the cap applies.
  const doublings = Math.min(Math.floor(failures) - MAX_FAILURES, 30);
  return Math.min(BASE_LOCK_MS * 2 ** doublings, MAX_LOCK_MS);
}

/**
 * The lock runs from the last failure, and even a correct code is refused while it lasts:
 * otherwise the attacker's guesses would simply be checked later instead of not at all.
 */
export function lockState(attempts: FailedAttempts | null, now: number): LockState {
  if (attempts === null) return { locked: false };
  const until = attempts.lastFailureAt + lockDurationMs(attempts.failures);
  if (now >= until) return { locked: false };
  // Rounded up so a client that waits exactly Retry-After seconds is never still locked.
  return { locked: true, until, retryAfterS: Math.max(1, Math.ceil((until - now) / 1000)) };
}
