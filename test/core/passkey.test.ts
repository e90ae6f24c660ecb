import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authenticatorFlags,
  authenticatorSelectionFor,
  challengeOfClientData,
  defaultPasskeyName,
  meaningfulAaguid,
  passkeyRequestOptions,
  passkeySignInRefusal,
  userHandleOf,
} from '../../src/core/passkey.js';

/** authenticatorData with a given flags byte: 32 bytes RP id hash, flags, 4 bytes counter. */
const authData = (flags: number) => new Uint8Array([...new Array(32).fill(7), flags, 0, 0, 0, 5]);
const UP = 0x01;
const UV = 0x04;
const passkey = { kind: 'passkey', userId: 'user-1' };
const ok = { key: passkey, authenticatorData: authData(UP | UV), userHandle: userHandleOf('user-1'), expectedUserHandle: userHandleOf };

test('creation options: a passkey is discoverable and verifies its user; a security key neither', () => {
  assert.deepEqual(authenticatorSelectionFor('passkey'), { residentKey: 'required', requireResidentKey: true, userVerification: 'required' });
  assert.deepEqual(authenticatorSelectionFor('security_key'), { residentKey: 'discouraged', requireResidentKey: false, userVerification: 'discouraged' });
});

test('sign-in request options: user verification required, no allowed-credential list', () => {
  const o = passkeyRequestOptions('example.com', 'abc', 300_000);
  assert.deepEqual(o, { rpId: 'example.com', challenge: 'abc', timeout: 300_000, userVerification: 'required' });
  assert.equal('allowCredentials' in o, false);
});

test('flags: UP, UV, BE, BS read from byte 32; short data is not authenticator data', () => {
  assert.deepEqual(authenticatorFlags(authData(UP | UV | 0x08 | 0x10)), { userPresent: true, userVerified: true, backupEligible: true, backedUp: true });
  assert.deepEqual(authenticatorFlags(authData(UP)), { userPresent: true, userVerified: false, backupEligible: false, backedUp: false });
  assert.equal(authenticatorFlags(new Uint8Array(36)), null);
});

test('UV check: a passkey signs in only with user verification (and presence)', () => {
  assert.equal(passkeySignInRefusal(ok), null);
  assert.equal(passkeySignInRefusal({ ...ok, authenticatorData: authData(UP) }), 'no_user_verification');
  assert.equal(passkeySignInRefusal({ ...ok, authenticatorData: authData(UV) }), 'no_user_verification');
  assert.equal(passkeySignInRefusal({ ...ok, authenticatorData: authData(0) }), 'no_user_verification');
  assert.equal(passkeySignInRefusal({ ...ok, authenticatorData: new Uint8Array(10) }), 'no_user_verification');
});

test('sign-in refusals: unknown credential, a 2FA security key, missing or wrong user handle', () => {
  assert.equal(passkeySignInRefusal({ ...ok, key: null }), 'unknown_credential');
  assert.equal(passkeySignInRefusal({ ...ok, key: { kind: 'security_key', userId: 'user-1' } }), 'not_a_passkey');
  assert.equal(passkeySignInRefusal({ ...ok, userHandle: null }), 'no_user_handle');
  assert.equal(passkeySignInRefusal({ ...ok, userHandle: '' }), 'no_user_handle');
  assert.equal(passkeySignInRefusal({ ...ok, userHandle: userHandleOf('user-2') }), 'wrong_user_handle');
});

test('the challenge of clientDataJSON, or null', () => {
  const cd = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const challenge = Buffer.alloc(32, 1).toString('base64url');
  assert.equal(challengeOfClientData(cd({ type: 'webauthn.get', challenge })), challenge);
  assert.equal(challengeOfClientData(cd({ type: 'webauthn.get' })), null);
  assert.equal(challengeOfClientData(cd({ challenge: 'short' })), null);
  assert.equal(challengeOfClientData(cd({ challenge: 'not base64url!'.repeat(3) })), null);
  assert.equal(challengeOfClientData(cd('a string')), null);
  assert.equal(challengeOfClientData('%%%'), null);
});

test('default names: the model from the AAGUID, else "Passkey"; numbered while taken (any case)', () => {
  const models = { 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager', 'bad-0000': 'Evil\u0000\nModel' };
  assert.equal(defaultPasskeyName('ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4', models, []), 'Google Password Manager');
  assert.equal(defaultPasskeyName('ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4', models, ['google password manager']), 'Google Password Manager 2');
  assert.equal(defaultPasskeyName('ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4', models, ['Google Password Manager', 'Google Password Manager 2']), 'Google Password Manager 3');
  assert.equal(defaultPasskeyName(null, models, []), 'Passkey');
  assert.equal(defaultPasskeyName('11111111-1111-1111-1111-111111111111', models, ['Passkey']), 'Passkey 2');
  assert.equal(defaultPasskeyName('bad-0000', models, []), 'EvilModel', 'control characters from the list are dropped');
  const long = { a: 'x'.repeat(100) };
  assert.ok([...defaultPasskeyName('a', long, [])].length <= 60);
});

test('AAGUIDs: the all-zero one means no model', () => {
  assert.equal(meaningfulAaguid('00000000-0000-0000-0000-000000000000'), null);
  assert.equal(meaningfulAaguid(undefined), null);
  assert.equal(meaningfulAaguid('EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4'), 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4');
  assert.equal(meaningfulAaguid('nope'), null);
});
