/**
 * The delivery rules of the mail outbox (SPEC §7), as pure functions of the message and the time:
 * retry after 1 minute, doubling to at most 1 hour between attempts, for 3 days from the moment
 * the message was queued; then it is failed. The store applies the decisions with conditional
 * writes, so the rules hold whichever node runs them.
 */
export const FIRST_RETRY_MS = 60_000;
export const MAX_RETRY_MS = 60 * 60_000;
export const GIVE_UP_AFTER_MS = 3 * 24 * 60 * 60_000;
/** How long a claim lasts: longer than any send may take (SMTP timeouts are well under it). */
export const LEASE_MS = 2 * 60_000;

export type OutboxState = 'queued' | 'sent' | 'failed';

export interface OutboxTiming {
  /** Failed attempts so far, before this one. */
  attempts: number;
  createdAt: number;
}

/** Wait after the n-th failed attempt (n ≥ 1): 1 min, 2, 4, … capped at 1 h. */
export function retryDelayMs(failedAttempts: number): number {
  const n = Math.max(1, failedAttempts);
  // 2^6 min = 64 min already exceeds the cap; stop doubling there so huge counts cannot overflow.
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(n - 1, 6));
}

export type AfterFailure = { state: 'queued'; attempts: number; nextAttemptAt: number } | { state: 'failed'; attempts: number };

/** What a failed send leads to: another try later, or failed for good once 3 days are over. */
export function afterFailure(msg: OutboxTiming, now: number): AfterFailure {
  const attempts = msg.attempts + 1;
  const nextAttemptAt = now + retryDelayMs(attempts);
  if (nextAttemptAt > msg.createdAt + GIVE_UP_AFTER_MS) return { state: 'failed', attempts };
  return { state: 'queued', attempts, nextAttemptAt };
}

/** A message may be claimed when queued, due, and not held by a live lease of another node. */
export function isClaimable(m: { state: OutboxState; nextAttemptAt: number; leaseUntil: number | null }, now: number): boolean {
  return m.state === 'queued' && m.nextAttemptAt <= now && (m.leaseUntil === null || m.leaseUntil <= now);
}
