import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { afterFailure, GIVE_UP_AFTER_MS, isClaimable, retryDelayMs } from '../../src/core/mail-outbox.js';

test('retry delays: 1 minute, doubling, capped at 1 hour', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 100, 10_000].map((n) => retryDelayMs(n) / 60_000), [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
});

test('a failing message is retried on that schedule and failed once 3 days are over (manual clock)', () => {
  const clock = manualClock();
  const createdAt = clock.now();
  let msg = { attempts: 0, createdAt };
  const waits: number[] = [];
  for (;;) {
    const next = afterFailure(msg, clock.now());
    if (next.state === 'failed') {
      assert.equal(next.attempts, msg.attempts + 1);
      break;
    }
    waits.push((next.nextAttemptAt - clock.now()) / 60_000);
    assert.ok(next.nextAttemptAt <= createdAt + GIVE_UP_AFTER_MS, 'no attempt is planned after 3 days');
    clock.set(next.nextAttemptAt);
    msg = { attempts: next.attempts, createdAt };
  }
  assert.deepEqual(waits.slice(0, 8), [1, 2, 4, 8, 16, 32, 60, 60]);
  // The last attempt happened within the last hour of the 3 days.
  assert.ok(createdAt + GIVE_UP_AFTER_MS - clock.now() < 60 * 60_000);
});

test('claimable: queued, due, and no live lease', () => {
  const now = 1_000_000;
  assert.equal(isClaimable({ state: 'queued', nextAttemptAt: now, leaseUntil: null }, now), true);
  assert.equal(isClaimable({ state: 'queued', nextAttemptAt: now + 1, leaseUntil: null }, now), false);
  assert.equal(isClaimable({ state: 'queued', nextAttemptAt: now, leaseUntil: now + 1 }, now), false, 'another node holds it');
  assert.equal(isClaimable({ state: 'queued', nextAttemptAt: now, leaseUntil: now }, now), true, 'a crashed node’s lease ran out');
  assert.equal(isClaimable({ state: 'sent', nextAttemptAt: now, leaseUntil: null }, now), false);
  assert.equal(isClaimable({ state: 'failed', nextAttemptAt: now, leaseUntil: null }, now), false);
});
