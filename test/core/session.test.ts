import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { cryptoRandom, type RandomSource } from '../../src/core/random.js';
import {
  createSession,
  FRESH_AUTH_MS,
  isFresh,
  isSessionExpired,
  needsTouch,
  PENDING_LOGIN_MS,
  sessionExpiresAt,
  sessionPolicy,
  TOUCH_INTERVAL_MS,
} from '../../src/core/session.js';
import { hashToken, isTokenShaped } from '../../src/core/token.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const policy = sessionPolicy(HOUR, 24 * HOUR);
const input = { userId: 'u1', pending: false, fullyAuthenticated: true, amr: ['pwd' as const], ip: '127.0.0.1', userAgent: 'test' };

test('policy: defaults for pending (5 min) and freshness (10 min)', () => {
  assert.equal(PENDING_LOGIN_MS, 5 * MIN);
  assert.equal(FRESH_AUTH_MS, 10 * MIN);
  assert.deepEqual(policy, { idleMs: HOUR, maxMs: 24 * HOUR, pendingMs: 5 * MIN, freshMs: 10 * MIN });
});

test('createSession: a 256-bit random token; only its SHA-256 is the id', () => {
  const clock = manualClock();
  const { token, session } = createSession(input, clock, cryptoRandom);
  assert.ok(isTokenShaped(token), token);
  assert.equal(Buffer.from(token, 'base64url').length, 32);
  assert.equal(session.id, hashToken(token));
  assert.notEqual(session.id, token);
  assert.ok(!JSON.stringify(session).includes(token), 'the token is not in the stored record');
  assert.equal(session.userId, 'u1');
  assert.equal(session.createdAt, clock.now());
  assert.equal(session.lastSeenAt, clock.now());
  assert.equal(session.authenticatedAt, clock.now());
  assert.equal(session.pending, false);
  assert.equal(session.ip, '127.0.0.1');
  assert.equal(session.userAgent, 'test');
  // Two sessions never share a token.
  assert.notEqual(createSession(input, clock, cryptoRandom).token, token);
});

test('createSession uses the injected random source', () => {
  const fixed: RandomSource = { bytes: (n) => new Uint8Array(n).fill(7) };
  const a = createSession(input, manualClock(), fixed);
  const b = createSession(input, manualClock(), fixed);
  assert.equal(a.token, b.token);
  assert.equal(a.token, Buffer.alloc(32, 7).toString('base64url'));
});

test('authenticatedAt is null for pending and for not fully authenticated logins', () => {
  const clock = manualClock();
  assert.equal(createSession({ ...input, pending: true, fullyAuthenticated: false }, clock, cryptoRandom).session.authenticatedAt, null);
  assert.equal(createSession({ ...input, pending: true, fullyAuthenticated: true }, clock, cryptoRandom).session.authenticatedAt, null);
  assert.equal(createSession({ ...input, fullyAuthenticated: false }, clock, cryptoRandom).session.authenticatedAt, null);
});

test('idle expiry: dies one idle period after it was last seen', () => {
  const clock = manualClock();
  const { session } = createSession(input, clock, cryptoRandom);
  assert.equal(sessionExpiresAt(session, policy), session.createdAt + HOUR);
  clock.advance(HOUR - 1);
  assert.equal(isSessionExpired(session, policy, clock.now()), false);
  clock.advance(1);
  assert.equal(isSessionExpired(session, policy, clock.now()), true);
});

test('idle expiry moves with lastSeenAt', () => {
  const clock = manualClock();
  const { session } = createSession(input, clock, cryptoRandom);
  clock.advance(50 * MIN);
  session.lastSeenAt = clock.now();
  clock.advance(50 * MIN);
  assert.equal(isSessionExpired(session, policy, clock.now()), false);
  clock.advance(10 * MIN);
  assert.equal(isSessionExpired(session, policy, clock.now()), true);
});

test('absolute expiry: 24 h after creation even when touched all along', () => {
  const clock = manualClock();
  const { session } = createSession(input, clock, cryptoRandom);
  const end = session.createdAt + 24 * HOUR;
  while (clock.now() + 50 * MIN < end) {
    clock.advance(50 * MIN);
    assert.equal(isSessionExpired(session, policy, clock.now()), false, `at ${(clock.now() - session.createdAt) / MIN} min`);
    session.lastSeenAt = clock.now();
  }
  assert.equal(sessionExpiresAt(session, policy), end);
  clock.set(end - 1);
  assert.equal(isSessionExpired(session, policy, clock.now()), false);
  clock.set(end);
  assert.equal(isSessionExpired(session, policy, clock.now()), true);
});

test('configurable lifetimes', () => {
  const short = sessionPolicy(5 * MIN, 30 * MIN);
  const clock = manualClock();
  const { session } = createSession(input, clock, cryptoRandom);
  clock.advance(5 * MIN);
  assert.equal(isSessionExpired(session, short, clock.now()), true);
  assert.equal(isSessionExpired(session, policy, clock.now()), false);
});

test('a pending login expires 5 minutes after it began, whatever lastSeenAt says', () => {
  const clock = manualClock();
  const { session } = createSession({ ...input, pending: true, fullyAuthenticated: false }, clock, cryptoRandom);
  assert.equal(sessionExpiresAt(session, policy), session.createdAt + 5 * MIN);
  clock.advance(4 * MIN);
  session.lastSeenAt = clock.now();
  clock.advance(MIN - 1);
  assert.equal(isSessionExpired(session, policy, clock.now()), false);
  clock.advance(1);
  assert.equal(isSessionExpired(session, policy, clock.now()), true);
});

test('isFresh: within 10 minutes of a full authentication, never while pending or after a trusted-device login', () => {
  const clock = manualClock();
  const { session } = createSession(input, clock, cryptoRandom);
  assert.equal(isFresh(session, policy, clock.now()), true);
  clock.advance(10 * MIN - 1);
  assert.equal(isFresh(session, policy, clock.now()), true);
  clock.advance(1);
  assert.equal(isFresh(session, policy, clock.now()), false);
  const trusted = createSession({ ...input, fullyAuthenticated: false }, clock, cryptoRandom).session;
  assert.equal(isFresh(trusted, policy, clock.now()), false);
  assert.equal(isFresh({ pending: true, authenticatedAt: clock.now() }, policy, clock.now()), false);
});

test('needsTouch: lastSeenAt is rewritten at most once a minute', () => {
  assert.equal(TOUCH_INTERVAL_MS, MIN);
  const t0 = Date.UTC(2026, 0, 1);
  assert.equal(needsTouch({ lastSeenAt: t0 }, t0), false);
  assert.equal(needsTouch({ lastSeenAt: t0 }, t0 + MIN - 1), false);
  assert.equal(needsTouch({ lastSeenAt: t0 }, t0 + MIN), true);
});
