import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../../src/core/duration.js';

test('units and bare seconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('15min'), 900_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('30'), 30_000);
  assert.equal(parseDuration(' 2H '), 7_200_000);
});

test('refuses nonsense, zero and negatives with a hint', () => {
  for (const bad of ['', 'h', '1 hour', '1w', '-1h', '1h30m', 'abc', '0', '0s']) {
    assert.throws(() => parseDuration(bad), /duration/, bad);
  }
});

test('zero where "none" makes sense (a grace period): 0, 0s, 0d', () => {
  for (const zero of ['0', '0s', '0d']) assert.equal(parseDuration(zero, { allowZero: true }), 0, zero);
  assert.equal(parseDuration('30', { allowZero: true }), 30_000);
  assert.throws(() => parseDuration('-1', { allowZero: true }), /duration/);
});
