import assert from 'node:assert/strict';
import { test } from 'node:test';
import { amrOfMethod, combineAmr, hasSecondFactor, parseAmr, serializeAmr } from '../../src/core/amr.js';

test('combineAmr: a password alone is one factor', () => {
  assert.deepEqual(combineAmr(['pwd']), ['pwd']);
  assert.equal(hasSecondFactor(['pwd']), false);
});

test('combineAmr: a password with an app code or a key is mfa, in a stable order', () => {
  assert.deepEqual(combineAmr(['pwd'], [amrOfMethod('totp')]), ['pwd', 'otp', 'mfa']);
  assert.deepEqual(combineAmr(['pwd'], [amrOfMethod('recovery_code')]), ['pwd', 'otp', 'mfa']);
  assert.deepEqual(combineAmr([amrOfMethod('webauthn')], ['pwd']), ['pwd', 'hwk', 'mfa']);
  assert.equal(hasSecondFactor(combineAmr(['pwd', 'otp'])), true);
});

test('combineAmr: mfa is derived, never carried over from input alone', () => {
  assert.deepEqual(combineAmr(['mfa']), []);
  assert.deepEqual(combineAmr(['pwd', 'mfa']), ['pwd']);
  assert.deepEqual(combineAmr(['otp']), ['otp']);
});

test('combineAmr: a key with user verification is two factors without a password', () => {
  assert.deepEqual(combineAmr(['hwk', 'user']), ['hwk', 'user', 'mfa']);
});

test('parseAmr / serializeAmr round trip; unknown words are dropped', () => {
  assert.equal(serializeAmr(['pwd', 'otp', 'mfa']), 'pwd otp mfa');
  assert.deepEqual(parseAmr('pwd otp mfa'), ['pwd', 'otp', 'mfa']);
  assert.deepEqual(parseAmr('pwd sms'), ['pwd']);
  assert.deepEqual(parseAmr('pwd mfa'), ['pwd']);
  assert.deepEqual(parseAmr(''), []);
  assert.deepEqual(parseAmr(null), []);
});
