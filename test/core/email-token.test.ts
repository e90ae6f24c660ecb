import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { newEmailToken, TOKEN_TTL_MS, tokenProblem } from '../../src/core/email-token.js';
import { cryptoRandom } from '../../src/core/random.js';
import { hashToken } from '../../src/core/token.js';

test('link tokens: 256 bits of randomness, stored as SHA-256, lifetimes of SPEC §7', () => {
  const clock = manualClock();
  const t = newEmailToken('password_reset', clock, cryptoRandom);
  assert.equal(Buffer.from(t.token, 'base64url').length, 32);
  assert.equal(t.tokenHash, hashToken(t.token));
  assert.notEqual(t.tokenHash, t.token);
  assert.equal(t.expiresAt - t.createdAt, 30 * 60_000);
  assert.equal(TOKEN_TTL_MS.verify_email, 24 * 3600_000);
  assert.equal(TOKEN_TTL_MS.secure_account, 7 * 24 * 3600_000);
  const seen = new Set(Array.from({ length: 1000 }, () => newEmailToken('verify_email', clock, cryptoRandom).token));
  assert.equal(seen.size, 1000);
});

test('a token is refused when unknown, used, expired, or older than the last password change', () => {
  const clock = manualClock();
  const t = { usedAt: null, createdAt: clock.now(), expiresAt: clock.now() + 30 * 60_000 };
  assert.equal(tokenProblem(t, clock.now()), null);
  assert.equal(tokenProblem(null, clock.now()), 'unknown');
  assert.equal(tokenProblem({ ...t, usedAt: clock.now() }, clock.now()), 'used');
  clock.advance(30 * 60_000 - 1);
  assert.equal(tokenProblem(t, clock.now()), null);
  clock.advance(1);
  assert.equal(tokenProblem(t, clock.now()), 'expired');
  assert.equal(tokenProblem(t, t.createdAt + 1, t.createdAt + 1), 'superseded');
  assert.equal(tokenProblem(t, t.createdAt + 1, t.createdAt), null);
});
