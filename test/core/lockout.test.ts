import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { BASE_LOCK_MS, lockDurationMs, lockState, MAX_FAILURES, MAX_LOCK_MS } from '../../src/core/lockout.js';

test('constants', () => {
  assert.equal(MAX_FAILURES, 5);
  assert.equal(BASE_LOCK_MS, 60_000);
  assert.equal(MAX_LOCK_MS, 3_600_000);
});

test('full schedule: nothing below 5, then 1 min doubling to a 1 h cap', () => {
  const expectedS: [number, number][] = [
    [0, 0], [1, 0], [4, 0],
    [5, 60], [6, 120], [7, 240], [8, 480], [9, 960], [10, 1920],
    [11, 3600], [12, 3600], [50, 3600], [5000, 3600], [Number.MAX_SAFE_INTEGER, 3600],
  ];
  for (const [failures, seconds] of expectedS) assert.equal(lockDurationMs(failures), seconds * 1000, `${failures} failures`);
  assert.equal(lockDurationMs(Number.NaN), 0);
});

test('no attempts or 4 failures: not locked', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.deepEqual(lockState(null, now), { locked: false });
  assert.deepEqual(lockState({ failures: 4, lastFailureAt: now }, now), { locked: false });
});

test('locks from the last failure and expires with the clock', () => {
  const clock = manualClock();
  const attempts = { failures: 5, lastFailureAt: clock.now() };
  assert.deepEqual(lockState(attempts, clock.now()), { locked: true, until: attempts.lastFailureAt + 60_000, retryAfterS: 60 });
  clock.advance(59_999);
  assert.deepEqual(lockState(attempts, clock.now()), { locked: true, until: attempts.lastFailureAt + 60_000, retryAfterS: 1 });
  clock.advance(1);
  assert.deepEqual(lockState(attempts, clock.now()), { locked: false });

  const sixth = { failures: 6, lastFailureAt: clock.now() };
  assert.equal(lockState(sixth, clock.now()).locked, true);
  clock.advance(119_999);
  assert.equal(lockState(sixth, clock.now()).locked, true);
  clock.advance(1);
  assert.deepEqual(lockState(sixth, clock.now()), { locked: false });

  const capped = { failures: 20, lastFailureAt: clock.now() };
  assert.deepEqual(lockState(capped, clock.now()), { locked: true, until: clock.now() + 3_600_000, retryAfterS: 3600 });
  clock.advance(3_600_000);
  assert.deepEqual(lockState(capped, clock.now()), { locked: false });
});

test('retryAfterS rounds up and is at least 1', () => {
  const t = 1_000_000;
  const at = (now: number) => {
    const s = lockState({ failures: 5, lastFailureAt: t }, now);
    return s.locked ? s.retryAfterS : 0;
  };
  assert.equal(at(t + 1), 60); // 59.999 s left
  assert.equal(at(t + 1000), 59);
  assert.equal(at(t + 1001), 59); // 58.999 s left
  assert.equal(at(t + 59_000), 1);
  assert.equal(at(t + 59_001), 1);
  assert.equal(at(t + 59_999), 1);
  assert.equal(at(t + 60_000), 0);
});
