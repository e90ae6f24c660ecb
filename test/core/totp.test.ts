import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Secret } from 'otpauth';
import type { RandomSource } from '../../src/core/random.js';
import {
  generateTotpSecret,
  isBase32Secret,
  normalizeTotpCode,
  otpauthUri,
  totpCode,
  totpStep,
  verifyTotp,
  TOTP_DIGITS,
  TOTP_PERIOD_S,
  TOTP_WINDOW,
} from '../../src/core/totp.js';

const base32 = (ascii: string): string => Secret.fromLatin1(ascii).base32;

test('constants follow SPEC §3', () => {
  assert.equal(TOTP_PERIOD_S, 30);
  assert.equal(TOTP_DIGITS, 6);
  assert.equal(TOTP_WINDOW, 1);
});

test('RFC 4226 Appendix D HOTP vectors', () => {
  const secret = base32('12345678901234567890');
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, counter) => assert.equal(totpCode(secret, counter), code, `counter ${counter}`));
});

test('RFC 6238 Appendix B TOTP vectors (SHA1, SHA256, SHA512; errata seeds)', () => {
  const seeds = {
    SHA1: base32('12345678901234567890'),
    SHA256: base32('12345678901234567890123456789012'),
    SHA512: base32('1234567890123456789012345678901234567890123456789012345678901234'),
  } as const;
  const table: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  for (const [seconds, sha1, sha256, sha512] of table) {
    const step = totpStep(seconds * 1000);
    assert.equal(totpCode(seeds.SHA1, step, { algorithm: 'SHA1', digits: 8 }), sha1, `SHA1 at ${seconds}`);
    assert.equal(totpCode(seeds.SHA256, step, { algorithm: 'SHA256', digits: 8 }), sha256, `SHA256 at ${seconds}`);
    assert.equal(totpCode(seeds.SHA512, step, { algorithm: 'SHA512', digits: 8 }), sha512, `SHA512 at ${seconds}`);
  }
});

test('totpStep floors to 30-second steps', () => {
  assert.equal(totpStep(0), 0);
  assert.equal(totpStep(29_999), 0);
  assert.equal(totpStep(30_000), 1);
  assert.equal(totpStep(59_000), 1);
});

const secret = generateTotpSecret({ bytes: (n) => new Uint8Array(n).map((_, i) => (i * 37 + 11) & 255) });
const now = Date.UTC(2026, 0, 1, 12, 0, 10);
const T = totpStep(now);

test('window: T, T-1 and T+1 accepted; T-2 and T+2 refused', () => {
  for (const d of [-1, 0, 1]) {
    assert.deepEqual(verifyTotp(secret, totpCode(secret, T + d), now, null), { ok: true, step: T + d }, `T${d}`);
  }
  for (const d of [-2, 2]) {
    assert.deepEqual(verifyTotp(secret, totpCode(secret, T + d), now, null), { ok: false, reason: 'wrong' }, `T${d}`);
  }
});

test('window edges follow the injected time', () => {
  const code = totpCode(secret, T);
  const stepStart = T * 30_000;
  assert.equal(verifyTotp(secret, code, stepStart + 30_000 + 29_999, null).ok, true);
  assert.equal(verifyTotp(secret, code, stepStart + 60_000, null).ok, false);
  assert.equal(verifyTotp(secret, code, stepStart - 30_000, null).ok, true);
  assert.equal(verifyTotp(secret, code, stepStart - 30_001, null).ok, false);
});

test('replay of the same step is refused', () => {
  const code = totpCode(secret, T);
  const first = verifyTotp(secret, code, now, null);
  assert.deepEqual(first, { ok: true, step: T });
  assert.deepEqual(verifyTotp(secret, code, now, T), { ok: false, reason: 'replayed' });
  assert.deepEqual(verifyTotp(secret, code, now + 20_000, T), { ok: false, reason: 'replayed' });
});

test('an older step is refused once a newer one was used', () => {
  assert.deepEqual(verifyTotp(secret, totpCode(secret, T - 1), now, T), { ok: false, reason: 'replayed' });
  assert.deepEqual(verifyTotp(secret, totpCode(secret, T + 1), now, T), { ok: true, step: T + 1 });
  assert.deepEqual(verifyTotp(secret, totpCode(secret, T), now, T + 1), { ok: false, reason: 'replayed' });
});

test('a wrong code is "wrong", not "replayed", even with a last used step', () => {
  const good = totpCode(secret, T);
  const bad = String((Number(good) + 1) % 1_000_000).padStart(6, '0');
  assert.deepEqual(verifyTotp(secret, bad, now, T - 5), { ok: false, reason: 'wrong' });
});

test('codes typed with spaces are accepted', () => {
  const code = totpCode(secret, T);
  assert.equal(verifyTotp(secret, `${code.slice(0, 3)} ${code.slice(3)}`, now, null).ok, true);
  assert.equal(verifyTotp(secret, ` ${code}\n`, now, null).ok, true);
});

test('malformed inputs', () => {
  for (const input of ['', '12345', '1234567', '12345a', '١٢٣٤٥٦', '123-456', '+12345', '12.345', '0x1234', 'x'.repeat(100_000)]) {
    assert.equal(normalizeTotpCode(input), null, JSON.stringify(input.slice(0, 20)));
    assert.deepEqual(verifyTotp(secret, input, now, null), { ok: false, reason: 'malformed' });
  }
  assert.equal(normalizeTotpCode('123 456'), '123456');
  assert.equal(normalizeTotpCode('012345'), '012345');
});

test('secret is 32 base32 chars carrying 160 random bits', () => {
  const requested: number[] = [];
  const random: RandomSource = {
    bytes: (n) => {
      requested.push(n);
      return new Uint8Array(n).fill(0xff);
    },
  };
  assert.equal(generateTotpSecret(random), '7'.repeat(32));
  assert.deepEqual(requested, [20]);
  const s = generateTotpSecret({ bytes: (n) => new Uint8Array(n).map((_, i) => i) });
  assert.equal(s.length, 32);
  assert.match(s, /^[A-Z2-7]{32}$/);
  assert.equal(isBase32Secret(s), true);
  assert.deepEqual([...Secret.fromBase32(s).bytes], Array.from({ length: 20 }, (_, i) => i));
  assert.equal(isBase32Secret(s.toLowerCase()), false);
  assert.equal(isBase32Secret(s.slice(1)), false);
  assert.equal(isBase32Secret(`${s.slice(1)}1`), false);
  assert.equal(isBase32Secret(`${s}=`), false);
});

test('otpauth URI has the exact SPEC format', () => {
  assert.equal(
    otpauthUri({ issuer: 'Twofold', account: 'alice@example.com', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }),
    'otpauth://totp/Twofold:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Twofold&algorithm=SHA1&digits=6&period=30',
  );
  assert.equal(
    otpauthUri({ issuer: 'Acme Corp', account: 'bob+2fa@example.com', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }),
    'otpauth://totp/Acme%20Corp:bob%2B2fa%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30',
  );
});
