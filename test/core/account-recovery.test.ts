import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  approveNow,
  canStart,
  cancel,
  complete,
  confirm,
  CONFIRM_LINK_MS,
  DAY_MS,
  endNoticeDue,
  HOUR_MS,
  isOpen,
  newRecovery,
  phaseOf,
  RECOVERY_WINDOW_MS,
  reminderDue,
  type Recovery,
} from '../../src/core/account-recovery.js';
import { manualClock } from '../../src/core/clock.js';

const T0 = Date.UTC(2026, 0, 1);
const DELAY = 72 * HOUR_MS;

function started(at = T0, id = 'r1'): Recovery {
  return newRecovery({ id, userId: 'u1' }, at);
}

function ok<T>(t: { ok: true; recovery: Recovery; extra: T } | { ok: false; reason: string }): Recovery {
  assert.equal(t.ok, true, JSON.stringify(t));
  return (t as { recovery: Recovery }).recovery;
}

test('start: awaits confirmation for 24 hours, then the link is dead', () => {
  const r = started();
  assert.equal(phaseOf(r, T0), 'awaiting_confirmation');
  assert.equal(phaseOf(r, T0 + CONFIRM_LINK_MS - 1), 'awaiting_confirmation');
  assert.equal(phaseOf(r, T0 + CONFIRM_LINK_MS), 'confirmation_expired');
  assert.equal(isOpen(r, T0 + CONFIRM_LINK_MS), false);
  assert.deepEqual(confirm(r, T0 + CONFIRM_LINK_MS, DELAY), { ok: false, reason: 'expired' });
});

test('confirm: the wait starts at confirmation and lasts the delay', () => {
  const clock = manualClock(T0);
  const r0 = started(clock.now());
  clock.advance(HOUR_MS);
  const r = ok(confirm(r0, clock.now(), DELAY));
  assert.equal(r.state, 'scheduled');
  assert.equal(r.dueAt, T0 + HOUR_MS + DELAY);
  assert.equal(phaseOf(r, clock.now()), 'waiting');
  assert.equal(phaseOf(r, r.dueAt! - 1), 'waiting');
  assert.equal(phaseOf(r, r.dueAt!), 'ready');
  // A second confirmation changes nothing.
  assert.deepEqual(confirm(r, clock.now(), DELAY), { ok: false, reason: 'invalid_state' });
});

test('remind: once, 24 hours before the end, only while waiting', () => {
  const r = ok(confirm(started(), T0, DELAY));
  const due = r.dueAt!;
  assert.equal(reminderDue(r, due - DAY_MS - 1), false);
  assert.equal(reminderDue(r, due - DAY_MS), true);
  assert.equal(reminderDue(r, due - 1), true);
  assert.equal(reminderDue(r, due), false, 'at the end the end notice says it');
  assert.equal(reminderDue({ ...r, reminderSentAt: due - DAY_MS }, due - 1), false);
  assert.equal(reminderDue(ok(cancel(r, due - DAY_MS, 'link')), due - DAY_MS), false);
});

test('remind: a wait of a day or less gets no reminder (the start notice said it)', () => {
  const short = ok(confirm(started(), T0, 20_000));
  assert.equal(reminderDue(short, T0 + 10_000), false);
  const day = ok(confirm(started(), T0, DAY_MS));
  assert.equal(reminderDue(day, T0 + 1), false);
});

test('end notice: once, from the due moment on', () => {
  const r = ok(confirm(started(), T0, DELAY));
  assert.equal(endNoticeDue(r, r.dueAt! - 1), false);
  assert.equal(endNoticeDue(r, r.dueAt!), true);
  assert.equal(endNoticeDue({ ...r, endNoticeSentAt: r.dueAt! }, r.dueAt! + 1), false);
});

test('cancel by sign-in: while awaiting confirmation or waiting, not after', () => {
  const a = ok(cancel(started(), T0 + 1, 'second_factor_sign_in'));
  assert.equal(a.state, 'cancelled');
  assert.equal(a.cancelReason, 'second_factor_sign_in');
  const w = ok(confirm(started(), T0, DELAY));
  const c = ok(cancel(w, T0 + HOUR_MS, 'second_factor_sign_in'));
  assert.equal(phaseOf(c, T0 + DELAY * 2), 'cancelled');
  assert.deepEqual(cancel(c, T0 + 2 * HOUR_MS, 'link'), { ok: false, reason: 'invalid_state' });
  // A cancelled recovery can never complete.
  assert.deepEqual(complete(c, T0 + DELAY * 2), { ok: false, reason: 'invalid_state' });
});

test('cancel by link: also once the wait is over but before the login completed it', () => {
  const w = ok(confirm(started(), T0, DELAY));
  const c = ok(cancel(w, T0 + DELAY + 1, 'link'));
  assert.equal(c.cancelReason, 'link');
});

test('complete: only when scheduled and due, and only once', () => {
  assert.deepEqual(complete(started(), T0 + DELAY * 2), { ok: false, reason: 'invalid_state' });
  const w = ok(confirm(started(), T0, DELAY));
  assert.deepEqual(complete(w, T0 + DELAY - 1), { ok: false, reason: 'not_due' });
  const done = ok(complete(w, T0 + DELAY));
  assert.equal(done.state, 'completed');
  assert.equal(done.endedAt, T0 + DELAY);
  assert.deepEqual(complete(done, T0 + DELAY + 1), { ok: false, reason: 'invalid_state' });
  assert.equal(isOpen(done, T0 + DELAY), false);
});

test('approve now: an administrator ends the wait at once; only while waiting', () => {
  const w = ok(confirm(started(), T0, DELAY));
  const a = ok(approveNow(w, T0 + HOUR_MS));
  assert.equal(phaseOf(a, T0 + HOUR_MS), 'ready');
  assert.equal(complete(a, T0 + HOUR_MS).ok, true);
  assert.deepEqual(approveNow(started(), T0), { ok: false, reason: 'invalid_state' });
});

test('limits: one at a time', () => {
  const open = started();
  assert.deepEqual(canStart([open], T0 + 1), { ok: false, reason: 'in_progress' });
  const waiting = ok(confirm(open, T0, DELAY));
  assert.deepEqual(canStart([waiting], T0 + DELAY + 1), { ok: false, reason: 'in_progress' }, 'ready but not completed is still open');
  const expired = started();
  assert.deepEqual(canStart([expired], T0 + CONFIRM_LINK_MS), { ok: true });
});

test('limits: at most 3 started in 30 days, counted on starts, with the time until one leaves the window', () => {
  const rs = [0, 1, 2].map((i) => ok(cancel(started(T0 + i * DAY_MS, `r${i}`), T0 + i * DAY_MS + 1, 'link')));
  const now = T0 + 3 * DAY_MS;
  const d = canStart(rs, now);
  assert.equal(d.ok, false);
  assert.equal(d.ok === false && d.reason, 'limit_reached');
  assert.equal(d.ok === false && d.reason === 'limit_reached' && d.retryAfterMs, T0 + RECOVERY_WINDOW_MS - now);
  assert.deepEqual(canStart(rs, T0 + RECOVERY_WINDOW_MS + 1), { ok: true });
  assert.deepEqual(canStart(rs.slice(1), now), { ok: true });
});
