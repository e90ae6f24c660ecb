import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  commonPasswordCount,
  hashPassword,
  makeDecoyVerifier,
  PASSWORD_MAX,
  PASSWORD_MIN,
  passwordProblem,
  verifyPassword,
} from '../../src/core/password.js';

test('length is 8 to 256, counted in characters (not UTF-16 units or bytes)', () => {
  assert.equal(PASSWORD_MIN, 8);
  assert.equal(PASSWORD_MAX, 256);
  assert.equal(passwordProblem('k7#Qz!p')?.code, 'password_too_short');
  assert.equal(passwordProblem('')?.code, 'password_too_short');
  assert.equal(passwordProblem('k7#Qz!pW'), null);
  // 7 emoji are 14 UTF-16 units but 7 characters: too short.
  assert.equal(passwordProblem('🔑🔒🚪🏠🌙🐢🦊')?.code, 'password_too_short');
  // 8 emoji: long enough.
  assert.equal(passwordProblem('🔑🔒🚪🏠🌙🐢🦊🐝'), null);
  assert.equal(passwordProblem('x'.repeat(255) + 'Y'), null);
  assert.equal(passwordProblem('x'.repeat(256) + 'Y')?.code, 'password_too_long');
  // 256 emoji are 512 UTF-16 units yet exactly 256 characters.
  assert.equal(passwordProblem('🦊'.repeat(256)), null);
  assert.equal(passwordProblem('🦊'.repeat(257))?.code, 'password_too_long');
});

test('messages are for people', () => {
  assert.match(passwordProblem('short')!.message, /at least 8 characters/);
  assert.match(passwordProblem('a'.repeat(300))!.message, /at most 256 characters/);
  assert.match(passwordProblem('password')!.message, /common/i);
});

test('the common list has at least 1,000 entries and is refused case-insensitively', () => {
  assert.ok(commonPasswordCount() >= 1000, `only ${commonPasswordCount()} common passwords`);
  for (const p of ['password', 'PASSWORD', 'Password', '12345678', 'qwertyuiop', 'iloveyou', 'sunshine', 'Football']) {
    assert.equal(passwordProblem(p)?.code, 'password_too_common', p);
  }
  assert.equal(passwordProblem('correct horse battery staple 42'), null);
});

test('argon2id with m=19 MiB, t=2, p=1, visible in the hash', async () => {
  const h = await hashPassword('correct horse battery');
  assert.ok(h.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), h);
  // Salted: the same password hashes differently each time.
  assert.notEqual(await hashPassword('correct horse battery'), h);
});

test('verify accepts the password and nothing else, never throws', async () => {
  const h = await hashPassword('correct horse battery');
  assert.equal(await verifyPassword(h, 'correct horse battery'), true);
  assert.equal(await verifyPassword(h, 'correct horse batter'), false);
  assert.equal(await verifyPassword(h, 'Correct horse battery'), false);
  assert.equal(await verifyPassword(h, ''), false);
  assert.equal(await verifyPassword('not a hash', 'correct horse battery'), false);
});

test('the decoy verifier always answers false, whatever the password', async () => {
  const decoy = await makeDecoyVerifier();
  assert.equal(await decoy('decoy password that matches nothing'), false);
  assert.equal(await decoy('anything'), false);
  assert.equal(await decoy(''), false);
});

test('hashing runs off the event loop', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    await hashPassword('correct horse battery');
  } finally {
    clearInterval(timer);
  }
  assert.ok(ticks >= 1, 'timers fired while argon2 was hashing');
});
