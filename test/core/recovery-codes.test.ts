import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cryptoRandom, type RandomSource } from '../../src/core/random.js';
import {
  formatRecoveryCode,
  generateRecoveryCodes,
  LOW_RECOVERY_CODES,
  normalizeRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_COUNT,
  RECOVERY_CODE_LENGTH,
  recoveryCodesText,
} from '../../src/core/recovery-codes.js';

const FORMAT = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

test('constants', () => {
  assert.equal(RECOVERY_CODE_COUNT, 10);
  assert.equal(LOW_RECOVERY_CODES, 3);
});

test('generates 10 distinct codes as xxxx-xxxx-xxxx-xxxx', () => {
  const codes = generateRecoveryCodes(cryptoRandom);
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const code of codes) assert.match(code, FORMAT);
});

test('at least 64 bits each: 16 characters of a 32-letter alphabet, 5 bits per character', () => {
  assert.equal(RECOVERY_CODE_ALPHABET.length, 32);
  assert.equal(new Set(RECOVERY_CODE_ALPHABET).size, 32);
  for (const c of 'ilou') assert.ok(!RECOVERY_CODE_ALPHABET.includes(c), c);
  assert.equal(RECOVERY_CODE_LENGTH, 16);
  assert.ok(RECOVERY_CODE_LENGTH * Math.log2(RECOVERY_CODE_ALPHABET.length) >= 64);
});

test('uses random.bytes: 10 bytes per code, every 5-bit group maps to one letter', () => {
  const requested: number[] = [];
  let counter = 0;
  const random: RandomSource = {
    bytes: (n) => {
      requested.push(n);
      // 0x00 0x44 0x32 0x14 0xc7 encodes 0..7 in 5-bit groups; the counter makes each code distinct.
      const b = Uint8Array.from([0x00, 0x44, 0x32, 0x14, 0xc7, 0x42, 0x54, 0xb6, 0x35, 0xcf]);
      b[9] = (b[9]! + counter++) & 255;
      return b;
    },
  };
  const codes = generateRecoveryCodes(random);
  assert.deepEqual(requested, Array(10).fill(10));
  assert.equal(codes[0], '0123-4567-89ab-cdef');
});

test('all 32 letters are reachable and none else', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) for (const code of generateRecoveryCodes(cryptoRandom)) for (const c of code.replaceAll('-', '')) seen.add(c);
  for (const c of seen) assert.ok(RECOVERY_CODE_ALPHABET.includes(c));
  assert.equal(seen.size, 32);
});

test('a random source that repeats itself fails instead of looping', () => {
  assert.throws(() => generateRecoveryCodes({ bytes: (n) => new Uint8Array(n) }));
});

test('normalization: case, spaces, dashes, whitespace, look-alikes', () => {
  const n = '0123456789abcdef';
  assert.equal(normalizeRecoveryCode('0123-4567-89ab-cdef'), n);
  assert.equal(normalizeRecoveryCode('0123-4567-89AB-CDEF'), n);
  assert.equal(normalizeRecoveryCode('0123 4567 89ab cdef'), n);
  assert.equal(normalizeRecoveryCode('  0123456789abcdef\n'), n);
  assert.equal(normalizeRecoveryCode('0123--4567\t89ab\u00a0cdef'), n);
  assert.equal(normalizeRecoveryCode('0123\u20134567\u201489ab-cdef'), n);
  assert.equal(normalizeRecoveryCode('O1I3-4567-89ab-cdeL'), '0113456789abcde1');
  assert.equal(normalizeRecoveryCode('oiLu-0000-0000-0000'), '011v000000000000');
});

test('rejects wrong lengths and characters', () => {
  for (const input of [
    '',
    '0123-4567-89ab-cde',
    '0123-4567-89ab-cdef0',
    '0123-4567-89ab-cde!',
    '0123-4567-89ab-cde_',
    '0123-4567-89ab-cdé0',
    '0123-4567-89ab-cde\u212a', // Kelvin sign lowercases to k
    '0123.4567.89ab.cdef',
    'x'.repeat(100_000),
  ]) {
    assert.equal(normalizeRecoveryCode(input), null, JSON.stringify(input.slice(0, 30)));
  }
});

test('formatRecoveryCode groups by four and refuses non-normalized input', () => {
  assert.equal(formatRecoveryCode('0123456789abcdef'), '0123-4567-89ab-cdef');
  assert.throws(() => formatRecoveryCode('0123456789ABCDEF'));
  assert.throws(() => formatRecoveryCode('0123'));
  for (const code of generateRecoveryCodes(cryptoRandom)) assert.equal(formatRecoveryCode(normalizeRecoveryCode(code)!), code);
});

test('text file contents', () => {
  const text = recoveryCodesText({
    issuer: 'Twofold',
    account: 'alice@example.com',
    createdAt: Date.UTC(2026, 2, 5, 23, 30),
    codes: [
      { code: '0123456789abcdef', used: false },
      { code: 'ghjk-mnpq-rstv-wxyz', used: true },
    ],
  });
  assert.equal(
    text,
    [
      'Twofold recovery codes',
      'Account: alice@example.com',
      'Created: 2026-03-05',
      '',
      'Use one of these codes to sign in if you cannot use your authenticator app or security key.',
      'Each code works only once. Keep this file somewhere safe and private.',
      '',
      '0123-4567-89ab-cdef',
      'ghjk-mnpq-rstv-wxyz (used)',
      '',
    ].join('\n'),
  );
  assert.ok(!text.includes('\r'));
});

test('a line break in the header fields cannot forge lines', () => {
  const text = recoveryCodesText({ issuer: 'Evil\nCo', account: 'a@b.c\r\n0000-0000-0000-0000', createdAt: 0, codes: [] });
  assert.equal(text.split('\n').length, 8);
  assert.ok(text.startsWith('Evil Co recovery codes\nAccount: a@b.c 0000-0000-0000-0000\nCreated: 1970-01-01\n'));
});
