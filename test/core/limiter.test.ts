import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLimiter } from '../../src/core/limiter.js';

test('a limiter runs at most its limit at once, in arrival order, and survives failures', async () => {
  const limiter = createLimiter(2);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const gates: (() => void)[] = [];
  const tasks = Array.from({ length: 6 }, (_, i) =>
    limiter.run(async () => {
      running++;
      most = Math.max(most, running);
      order.push(i);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      if (i === 1) throw new Error('task 1 fails');
      return i;
    }),
  );
  const settled = Promise.allSettled(tasks);
  // Let every task that may start do so, then release them one by one.
  for (let released = 0; released < 6; released++) {
    await new Promise((r) => setImmediate(r));
    assert.ok(limiter.active <= 2);
    gates.shift()!();
  }
  const results = await settled;
  assert.equal(most, 2);
  assert.equal(limiter.peak, 2);
  assert.equal(limiter.active, 0);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(results[1]!.status, 'rejected');
  assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value), [0, 2, 3, 4, 5]);
});

test('a limiter needs a positive whole number', () => {
  assert.throws(() => createLimiter(0), RangeError);
  assert.throws(() => createLimiter(1.5), RangeError);
});
