import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createSecretBox, DecryptError } from '../../src/core/secret-box.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);

test('round trip, with a fresh IV each time', () => {
  const box = createSecretBox(keyA);
  const sealed = box.encrypt('JBSWY3DPEHPK3PXP', 'totp:u1');
  assert.equal(box.decrypt(sealed, 'totp:u1'), 'JBSWY3DPEHPK3PXP');
  assert.notEqual(box.encrypt('JBSWY3DPEHPK3PXP', 'totp:u1'), sealed);
  assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
  assert.equal(box.decrypt(box.encrypt('', 'c'), 'c'), '');
  assert.equal(box.decrypt(box.encrypt('ünïcødé 🔑', 'c'), 'c'), 'ünïcødé 🔑');
});

test('the ciphertext names its key: v1.<keyId>.<iv>.<body>', () => {
  const box = createSecretBox(keyA);
  const parts = box.encrypt('x', 'c').split('.');
  assert.equal(parts.length, 4);
  assert.equal(parts[0], 'v1');
  assert.equal(parts[1], box.keyId);
  assert.equal(Buffer.from(parts[2]!, 'base64url').length, 12);
  assert.notEqual(createSecretBox(keyB).keyId, box.keyId);
  assert.equal(createSecretBox(Buffer.from(keyA)).keyId, box.keyId, 'the key id is derived from the key');
});

test('a different context does not decrypt', () => {
  const box = createSecretBox(keyA);
  const sealed = box.encrypt('secret', 'totp:u1');
  assert.throws(() => box.decrypt(sealed, 'totp:u2'), DecryptError);
  assert.throws(() => box.decrypt(sealed, 'recovery:u1'), DecryptError);
});

test('tampering is detected', () => {
  const box = createSecretBox(keyA);
  const sealed = box.encrypt('secret value', 'c');
  const [v, id, iv, body] = sealed.split('.') as [string, string, string, string];
  const flip = (s: string, i: number) => {
    const b = Buffer.from(s, 'base64url');
    b[i] = b[i]! ^ 1;
    return b.toString('base64url');
  };
  assert.throws(() => box.decrypt([v, id, iv, flip(body, 0)].join('.'), 'c'), DecryptError);
  assert.throws(() => box.decrypt([v, id, iv, flip(body, Buffer.from(body, 'base64url').length - 1)].join('.'), 'c'), DecryptError);
  assert.throws(() => box.decrypt([v, id, flip(iv, 3), body].join('.'), 'c'), DecryptError);
  assert.throws(() => box.decrypt([v, id, iv, body.slice(0, 10)].join('.'), 'c'), DecryptError);
  assert.throws(() => box.decrypt(['v2', id, iv, body].join('.'), 'c'), DecryptError);
  assert.throws(() => box.decrypt('garbage', 'c'), DecryptError);
});

test('a wrong key refuses with a message about TWOFOLD_SECRET', () => {
  const sealed = createSecretBox(keyA).encrypt('secret', 'c');
  assert.throws(() => createSecretBox(keyB).decrypt(sealed, 'c'), /TWOFOLD_SECRET/);
});

test('after rotation the previous key still decrypts; new data uses the current key', () => {
  const old = createSecretBox(keyA);
  const sealedOld = old.encrypt('old secret', 'c');
  const rotated = createSecretBox(keyB, [keyA]);
  assert.equal(rotated.decrypt(sealedOld, 'c'), 'old secret');
  const sealedNew = rotated.encrypt('new secret', 'c');
  assert.equal(sealedNew.split('.')[1], rotated.keyId);
  assert.equal(rotated.keyId, createSecretBox(keyB).keyId);
  assert.throws(() => old.decrypt(sealedNew, 'c'), DecryptError);
});

test('mac is stable, keyed and separated by purpose', () => {
  const box = createSecretBox(keyA);
  const m = box.mac('recovery', 'abcd-efgh');
  assert.equal(createSecretBox(Buffer.from(keyA)).mac('recovery', 'abcd-efgh'), m);
  assert.notEqual(box.mac('recovery', 'abcd-efgh-'), m);
  assert.notEqual(box.mac('other', 'abcd-efgh'), m);
  assert.notEqual(createSecretBox(keyB).mac('recovery', 'abcd-efgh'), m);
  // The purpose/value boundary is unambiguous.
  assert.notEqual(box.mac('ab', 'c'), box.mac('a', 'bc'));
  assert.match(m, /^[A-Za-z0-9_-]{43}$/);
});

test('a key that is not 32 bytes is refused', () => {
  assert.throws(() => createSecretBox(randomBytes(16)));
});

test('macs gives the current key first, then each previous key, so old lookups still match', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const before = createSecretBox(oldKey).mac('recovery-code', 'u:abc');
  const rotated = createSecretBox(newKey, [oldKey]);
  assert.deepEqual(rotated.macs('recovery-code', 'u:abc'), [rotated.mac('recovery-code', 'u:abc'), before]);
  assert.deepEqual(createSecretBox(newKey).macs('recovery-code', 'u:abc'), [rotated.mac('recovery-code', 'u:abc')]);
});
