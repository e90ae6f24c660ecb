import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CHALLENGE_TTL_MS,
  challengeExpiresAt,
  challengeProblem,
  checkCounter,
  checkKeyName,
  credentialOwnership,
  type StoredChallenge,
} from '../../src/core/security-key.js';

const T0 = Date.UTC(2026, 0, 1);

describe('challenge bookkeeping', () => {
  const issued: StoredChallenge = { sessionId: 'session-a', purpose: 'authentication', expiresAt: challengeExpiresAt(T0) };
  const ceremony = { sessionId: 'session-a', purpose: 'authentication' } as const;

  test('a challenge lives 5 minutes', () => {
    assert.equal(CHALLENGE_TTL_MS, 5 * 60_000);
    assert.equal(challengeExpiresAt(T0), T0 + 5 * 60_000);
  });

  test('the session’s own challenge for this ceremony, in time, is accepted', () => {
    assert.equal(challengeProblem(issued, ceremony, T0), null);
    assert.equal(challengeProblem(issued, ceremony, T0 + CHALLENGE_TTL_MS - 1), null);
  });

  test('expiry: at 5 minutes and after, it is dead', () => {
    assert.equal(challengeProblem(issued, ceremony, T0 + CHALLENGE_TTL_MS), 'expired');
    assert.equal(challengeProblem(issued, ceremony, T0 + 60 * 60_000), 'expired');
  });

  test('reuse: once consumed there is nothing left to answer (missing)', () => {
    // The store takes the challenge out when it is used; a second answer finds none.
    const store = new Map<string, StoredChallenge>([['session-a:authentication', issued]]);
    const take = () => {
      const c = store.get('session-a:authentication') ?? null;
      store.delete('session-a:authentication');
      return c;
    };
    assert.equal(challengeProblem(take(), ceremony, T0 + 1000), null);
    assert.equal(challengeProblem(take(), ceremony, T0 + 2000), 'missing');
    assert.equal(challengeProblem(undefined, ceremony, T0), 'missing');
  });

  test('another session’s challenge does not answer for this one', () => {
    assert.equal(challengeProblem(issued, { sessionId: 'session-b', purpose: 'authentication' }, T0), 'wrong_session');
  });

  test('one ceremony’s challenge cannot stand in for another', () => {
    assert.equal(challengeProblem(issued, { sessionId: 'session-a', purpose: 'reauthentication' }, T0), 'wrong_purpose');
    assert.equal(challengeProblem(issued, { sessionId: 'session-a', purpose: 'registration' }, T0), 'wrong_purpose');
    const reg: StoredChallenge = { ...issued, purpose: 'registration' };
    assert.equal(challengeProblem(reg, ceremony, T0), 'wrong_purpose');
  });

  test('a wrong session is reported before expiry (nothing about it is this session’s)', () => {
    assert.equal(challengeProblem(issued, { sessionId: 'session-b', purpose: 'authentication' }, T0 + CHALLENGE_TTL_MS), 'wrong_session');
  });
});

describe('signature counter', () => {
  test('an increasing counter is fine', () => {
    assert.equal(checkCounter(0, 1), 'ok');
    assert.equal(checkCounter(5, 6), 'ok');
    assert.equal(checkCounter(5, 1000), 'ok');
  });

  test('a key without a counter (always 0) is fine', () => {
    assert.equal(checkCounter(0, 0), 'ok');
  });

  test('regression: equal or lower, when either is non-zero, may be a cloned key', () => {
    assert.equal(checkCounter(5, 5), 'possibly_cloned');
    assert.equal(checkCounter(5, 4), 'possibly_cloned');
    assert.equal(checkCounter(5, 0), 'possibly_cloned', 'a counter that falls back to 0');
    assert.equal(checkCounter(1, 0), 'possibly_cloned');
  });
});

describe('credential ownership', () => {
  test('an unknown credential is unknown', () => {
    assert.equal(credentialOwnership(null, 'user-a'), 'unknown');
    assert.equal(credentialOwnership(undefined, 'user-a'), 'unknown');
  });

  test('another account’s credential is unknown for this one', () => {
    assert.equal(credentialOwnership({ userId: 'user-b' }, 'user-a'), 'unknown');
  });

  test('the account’s own credential is its own', () => {
    assert.equal(credentialOwnership({ userId: 'user-a' }, 'user-a'), 'own');
  });
});

describe('key names', () => {
  test('trimmed, 1–64 characters', () => {
    assert.deepEqual(checkKeyName('  Blue YubiKey  '), { ok: true, name: 'Blue YubiKey' });
    assert.deepEqual(checkKeyName('a'), { ok: true, name: 'a' });
    assert.deepEqual(checkKeyName('k'.repeat(64)), { ok: true, name: 'k'.repeat(64) });
  });

  test('empty or blank → a problem to show', () => {
    for (const n of ['', '   ', '\u00a0']) {
      const r = checkKeyName(n);
      assert.equal(r.ok, false, JSON.stringify(n));
      if (!r.ok) assert.match(r.problem, /name/i);
    }
  });

  test('65 characters is too long; characters are counted, not UTF-16 units', () => {
    const r = checkKeyName('k'.repeat(65));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.problem, /64/);
    assert.equal(checkKeyName('🔑'.repeat(64)).ok, true, '64 emoji are 64 characters');
    assert.equal(checkKeyName('🔑'.repeat(65)).ok, false);
  });

  test('no control characters (tabs, line breaks, NUL, DEL, C1)', () => {
    for (const n of ['a\tb', 'a\nb', 'a\rb', 'a\u0000b', 'a\u007fb', 'a\u0085b', 'a\u2028b']) {
      const r = checkKeyName(n);
      assert.equal(r.ok, false, JSON.stringify(n));
      if (!r.ok) assert.match(r.problem, /control/i);
    }
  });

  test('letters of any script and punctuation are fine', () => {
    for (const n of ['Clé de Zoë', 'キー', 'YubiKey 5C (work) #2']) assert.equal(checkKeyName(n).ok, true, n);
  });
});
