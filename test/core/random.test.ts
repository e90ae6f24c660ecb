import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pooledRandom, randomToken } from '../../src/core/random.js';

test('pooled random bytes: the lengths asked for, never the same bytes twice, across refills', () => {
  const random = pooledRandom(100);
  const seen = new Set<string>();
  // 3,000 draws of 32 bytes go through the 100-byte pool many times over, with ends left unused.
  for (let i = 0; i < 3000; i++) {
    const b = random.bytes(32);
    assert.equal(b.length, 32);
    const hex = Buffer.from(b).toString('hex');
    assert.ok(!seen.has(hex), 'a value was handed out twice');
    seen.add(hex);
  }
  assert.equal(random.bytes(0).length, 0);
  assert.equal(random.bytes(100).length, 100);
  assert.equal(random.bytes(1000).length, 1000, 'more than the pool is drawn directly');
});

test('pooled random bytes are copies in memory of their own: nothing of the pool or of other values', () => {
  const random = pooledRandom(4096);
  const a = random.bytes(16);
  assert.equal(a.buffer.byteLength, 16);
  assert.equal(a.byteOffset, 0);
  const b = random.bytes(16);
  a.fill(0);
  assert.notDeepEqual(Buffer.from(b), Buffer.alloc(16), 'changing one value changes no other');
});

test('bits look uniform: about half of 256 k bits are set', () => {
  const random = pooledRandom();
  let ones = 0;
  for (let i = 0; i < 1024; i++) for (const byte of random.bytes(32)) for (let k = 0; k < 8; k++) ones += (byte >> k) & 1;
  // 262,144 fair bits: the standard deviation is 256, so 6 of them is a bound a real source never misses.
  assert.ok(Math.abs(ones - 131_072) < 6 * 256, `${ones} bits set`);
  assert.match(randomToken(random), /^[A-Za-z0-9_-]{43}$/);
});
