/**
 * SPEC §12, delayed self-service recovery, as a pure state machine. A person who lost every second
 * factor proves the password, confirms by a mailed link, then waits: any second-factor sign-in, the
 * cancel link or an administrator ends the wait. Time is always passed in, so expiry and the due
 * moment are decided by whoever asks (a request or the housekeeping run on any node), never by a timer.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** The mailed confirmation link of a started recovery lives this long. */
export const CONFIRM_LINK_MS = DAY_MS;
/** Cancel links sent with the notices live as long as a recovery could still be waiting, and a little more. */
export const CANCEL_LINK_GRACE_MS = 7 * DAY_MS;
/** The reminder goes out this long before the end of the wait (only when the wait is longer). */
export const REMINDER_BEFORE_MS = DAY_MS;
export const MAX_RECOVERIES_PER_WINDOW = 3;
export const RECOVERY_WINDOW_MS = 30 * DAY_MS;
export const DEFAULT_RECOVERY_DELAY_MS = 72 * HOUR_MS;

export type RecoveryState = 'requested' | 'scheduled' | 'cancelled' | 'completed';
export type CancelReason = 'link' | 'second_factor_sign_in' | 'administrator' | 'confirmation_expired';

export interface Recovery {
  id: string;
  userId: string;
  state: RecoveryState;
  requestedAt: number;
  /** Until when the confirmation link may schedule it. */
  confirmExpiresAt: number;
  scheduledAt: number | null;
  dueAt: number | null;
  reminderSentAt: number | null;
  endNoticeSentAt: number | null;
  endedAt: number | null;
  cancelReason: CancelReason | null;
}

/** What a person or an administrator is shown: the stored state read at `now`. */
export type RecoveryPhase = 'awaiting_confirmation' | 'confirmation_expired' | 'waiting' | 'ready' | 'cancelled' | 'completed';

export function phaseOf(r: Recovery, now: number): RecoveryPhase {
  switch (r.state) {
    case 'requested':
      return now < r.confirmExpiresAt ? 'awaiting_confirmation' : 'confirmation_expired';
    case 'scheduled':
      return r.dueAt !== null && now >= r.dueAt ? 'ready' : 'waiting';
    default:
      return r.state;
  }
}

/** Still in progress: it blocks another start and is what a second-factor sign-in cancels. */
export function isOpen(r: Recovery, now: number): boolean {
  const p = phaseOf(r, now);
  return p === 'awaiting_confirmation' || p === 'waiting' || p === 'ready';
}

export type StartDecision =
  | { ok: true }
  | { ok: false; reason: 'in_progress' }
  | { ok: false; reason: 'limit_reached'; retryAfterMs: number };

/**
 * One at a time per account, and at most three started in 30 days: the budget is counted on
 * starts, so a person (or whoever has the password) cannot cycle start and cancel for ever.
 */
export function canStart(recent: readonly Recovery[], now: number): StartDecision {
  if (recent.some((r) => isOpen(r, now))) return { ok: false, reason: 'in_progress' };
  const inWindow = recent.filter((r) => r.requestedAt > now - RECOVERY_WINDOW_MS).map((r) => r.requestedAt).sort((a, b) => a - b);
  if (inWindow.length >= MAX_RECOVERIES_PER_WINDOW) {
    // The oldest start that keeps the count at the limit leaves the window first.
    const leaves = inWindow[inWindow.length - MAX_RECOVERIES_PER_WINDOW]! + RECOVERY_WINDOW_MS;
    return { ok: false, reason: 'limit_reached', retryAfterMs: Math.max(1000, leaves - now) };
  }
  return { ok: true };
}

export function newRecovery(input: { id: string; userId: string }, now: number): Recovery {
  return {
    id: input.id,
    userId: input.userId,
    state: 'requested',
    requestedAt: now,
    confirmExpiresAt: now + CONFIRM_LINK_MS,
    scheduledAt: null,
    dueAt: null,
    reminderSentAt: null,
    endNoticeSentAt: null,
    endedAt: null,
    cancelReason: null,
  };
}

export type Transition<T> = { ok: true; recovery: Recovery; extra: T } | { ok: false; reason: 'invalid_state' | 'expired' | 'not_due' };

/** The confirmation link opened in time: the wait starts now. */
export function confirm(r: Recovery, now: number, delayMs: number): Transition<{ dueAt: number }> {
  if (r.state !== 'requested') return { ok: false, reason: 'invalid_state' };
  if (now >= r.confirmExpiresAt) return { ok: false, reason: 'expired' };
  const dueAt = now + delayMs;
  return { ok: true, recovery: { ...r, state: 'scheduled', scheduledAt: now, dueAt }, extra: { dueAt } };
}

export function cancel(r: Recovery, now: number, reason: CancelReason): Transition<null> {
  if (!isOpen(r, now)) return { ok: false, reason: 'invalid_state' };
  return { ok: true, recovery: { ...r, state: 'cancelled', endedAt: now, cancelReason: reason }, extra: null };
}

/** Every factor goes; only a recovery whose wait is over may do that. */
export function complete(r: Recovery, now: number): Transition<null> {
  if (r.state !== 'scheduled') return { ok: false, reason: 'invalid_state' };
  if (r.dueAt === null || now < r.dueAt) return { ok: false, reason: 'not_due' };
  return { ok: true, recovery: { ...r, state: 'completed', endedAt: now }, extra: null };
}

/** An administrator ends the wait at once; the person still finishes by logging in. */
export function approveNow(r: Recovery, now: number): Transition<null> {
  if (!isOpen(r, now) || r.state !== 'scheduled') return { ok: false, reason: 'invalid_state' };
  return { ok: true, recovery: { ...r, dueAt: Math.min(r.dueAt ?? now, now) }, extra: null };
}

/**
 * The "24 hours before the end" notice: once, only while still waiting, and only when the wait is
 * long enough for it to say something the start notice did not.
 */
export function reminderDue(r: Recovery, now: number): boolean {
  if (r.state !== 'scheduled' || r.reminderSentAt !== null || r.dueAt === null || r.scheduledAt === null) return false;
  if (r.dueAt - r.scheduledAt <= REMINDER_BEFORE_MS) return false;
  return now >= r.dueAt - REMINDER_BEFORE_MS && now < r.dueAt;
}

/** The "wait is over, log in to finish" notice: once, when due. */
export function endNoticeDue(r: Recovery, now: number): boolean {
  return r.state === 'scheduled' && r.endNoticeSentAt === null && r.dueAt !== null && now >= r.dueAt;
}
