import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Answer, Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { SoftAuthenticator, type AssertionKnobs } from '../helpers/soft-authenticator.js';
import { API, PASSWORD, assertError, codeAt, enableTwoFactor, nextStep, wrongCode } from '../helpers/totp.js';

const DEVICE_COOKIE = 'twofold_device';

for (const { kind, skip } of databaseKinds()) {
  describe(`security keys (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    let accounts = 0;
    before(async () => {
      server = await startTestServer(kind, { clock });
    });
    after(async () => {
      await server?.close();
    });

    // ---- helpers ----

    /** Events of one test get distinct times, so "newest first" is well defined. */
    const tick = () => clock.advance(1);

    const authenticator = (counting = true) => new SoftAuthenticator(server.config.publicOrigin, counting);

    /** A new account, signed in with its password (fresh: it has no second factor yet). */
    async function signup(): Promise<{ email: string; client: Client; userId: string }> {
      const email = `key-${++accounts}@example.com`;
      const client = server.client();
      const r = await client.post(`${API}/signup`, { email, password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      return { email, client, userId: r.json.user.id };
    }

    async function creationOptions(client: Client): Promise<Answer> {
      return client.post(`${API}/me/security-keys/options`);
    }

    /** The whole add-a-key ceremony; returns the answer of POST /me/security-keys. */
    async function addKey(client: Client, auth: SoftAuthenticator, name: string, knobs: Parameters<SoftAuthenticator['create']>[1] = {}): Promise<Answer> {
      const options = await creationOptions(client);
      assert.equal(options.status, 200, options.text);
      return client.post(`${API}/me/security-keys`, { name, response: auth.create(options.json, knobs) });
    }

    /** A new account with one key (2FA on through it). */
    async function accountWithKey(counting = true) {
      const account = await signup();
      const auth = authenticator(counting);
      const added = await addKey(account.client, auth, 'Blue key');
      assert.equal(added.status, 201, added.text);
      return { ...account, auth, keyId: added.json.id as string, recoveryCodes: added.json.recoveryCodes as string[] };
    }

    async function passwordStep(email: string, client: Client = server.client()): Promise<{ client: Client; answer: Answer }> {
      tick();
      const answer = await client.post(`${API}/login`, { email, password: PASSWORD });
      assert.equal(answer.status, 200, answer.text);
      return { client, answer };
    }

    async function loginOptions(client: Client): Promise<Answer> {
      tick();
      return client.post(`${API}/login/two-factor/webauthn/options`);
    }

    /** Password step, options and the key's assertion: the answer of POST /login/two-factor. */
    async function keyLogin(email: string, auth: SoftAuthenticator, opts: { knobs?: AssertionKnobs; trustDevice?: boolean; client?: Client } = {}) {
      const { client, answer } = await passwordStep(email, opts.client);
      assert.equal(answer.json.status, 'two_factor_required', answer.text);
      const options = await loginOptions(client);
      assert.equal(options.status, 200, options.text);
      const response = auth.get(options.json, opts.knobs);
      tick();
      const result = await client.post(`${API}/login/two-factor`, {
        method: 'webauthn',
        response,
        ...(opts.trustDevice === undefined ? {} : { trustDevice: opts.trustDevice }),
      });
      return { client, result, options: options.json, response };
    }

    async function reauthenticate(client: Client, body: Record<string, unknown>): Promise<Answer> {
      tick();
      return client.post(`${API}/me/reauthenticate`, body);
    }

    async function events(userId: string, type?: string): Promise<{ type: string; detail: Record<string, unknown> | null }[]> {
      let q = server.ctx.db.selectFrom('security_events').select(['type', 'detail', 'at']).where('user_id', '=', userId);
      if (type) q = q.where('type', '=', type);
      const rows = await q.orderBy('at', 'desc').execute();
      return rows.map((r) => ({ type: r.type, detail: r.detail ? JSON.parse(r.detail) : null }));
    }

    async function keysOf(userId: string) {
      return server.ctx.db.selectFrom('security_keys').selectAll().where('user_id', '=', userId).execute();
    }

    // ---- adding ----

    test('adding a key needs a fresh authentication (a password-only login is fresh without 2FA)', async () => {
      const { client, email } = await signup();
      const options = await creationOptions(client);
      assert.equal(options.status, 200, options.text);
      const o = options.json;
      assert.equal(o.rp.id, 'localhost');
      assert.equal(o.rp.name, 'Twofold');
      assert.equal(o.user.name, email);
      assert.equal(o.attestation, 'none');
      assert.equal(o.authenticatorSelection.residentKey, 'discouraged');
      assert.equal(o.authenticatorSelection.userVerification, 'discouraged');
      assert.deepEqual(o.excludeCredentials, []);
      assert.match(o.challenge, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(o.timeout, 5 * 60_000);

      clock.advance(11 * 60_000);
      assertError(await creationOptions(client), 403, 'reauthentication_required');
      const response = authenticator().create(o);
      assertError(await client.post(`${API}/me/security-keys`, { name: 'Late', response }), 403, 'reauthentication_required');
      assert.equal((await reauthenticate(client, { password: PASSWORD })).status, 204);
      assert.equal((await addKey(client, authenticator(), 'After reauth')).status, 201);

      const pending = (await passwordStep(email)).client;
      assertError(await creationOptions(pending), 401, 'unauthenticated');
    });

    test('the first key turns 2FA on and returns 10 recovery codes; a second key does not', async () => {
      const { client, userId } = await signup();
      const first = await addKey(client, authenticator(), '  Blue key  ');
      assert.equal(first.status, 201, first.text);
      assert.deepEqual(Object.keys(first.json).sort(), ['id', 'kind', 'name', 'recoveryCodes']);
      assert.equal(first.json.name, 'Blue key');
      assert.equal(first.json.recoveryCodes.length, 10);
      assert.equal(new Set(first.json.recoveryCodes).size, 10);
      const me = await client.get(`${API}/me`);
      assert.deepEqual(me.json.twoFactor, { enabled: true, methods: ['webauthn', 'recovery_code'], recoveryCodesRemaining: 10 });

      const options = await creationOptions(client);
      assert.deepEqual(
        options.json.excludeCredentials.map((c: { id: string }) => c.id),
        (await keysOf(userId)).map((k) => k.credential_id),
        'the account’s keys are excluded',
      );
      const second = await client.post(`${API}/me/security-keys`, { name: 'Backup key', response: authenticator().create(options.json) });
      assert.equal(second.status, 201, second.text);
      assert.deepEqual(Object.keys(second.json).sort(), ['id', 'kind', 'name']);
      assert.equal((await client.get(`${API}/me`)).json.twoFactor.recoveryCodesRemaining, 10, 'the codes were not replaced');

      const types = (await events(userId)).map((e) => e.type);
      assert.equal(types.filter((t) => t === 'security_key_added').length, 2);
      assert.equal(types.filter((t) => t === 'two_factor_enabled').length, 1);
      const added = await events(userId, 'security_key_added');
      assert.deepEqual(added.map((e) => e.detail?.name).sort(), ['Backup key', 'Blue key']);
    });

    test('a recovery code of the first key works at login', async () => {
      const { email, recoveryCodes } = await accountWithKey();
      const { client, answer } = await passwordStep(email);
      assert.deepEqual(answer.json.methods, ['webauthn', 'recovery_code']);
      const r = await client.post(`${API}/login/two-factor`, { method: 'recovery_code', code: recoveryCodes[0] });
      assert.equal(r.status, 200, r.text);
    });

    test('adding a key makes the session fresh, also after 2FA was on', async () => {
      const { client } = await accountWithKey();
      clock.advance(9 * 60_000);
      assert.equal((await addKey(client, authenticator(), 'Second')).status, 201);
      clock.advance(9 * 60_000);
      assert.equal((await creationOptions(client)).status, 200, 'still fresh: the new key counted as verifying it');
    });

    test('key names: trimmed, 1–64 characters, no control characters, unique per account (409 name_taken)', async () => {
      const { client, userId } = await signup();
      const options = await creationOptions(client);
      const response = authenticator().create(options.json);
      for (const bad of ['', '   ', 'k'.repeat(65), 'tab\there', 'line\nbreak']) {
        const r = await client.post(`${API}/me/security-keys`, { name: bad, response });
        assertError(r, 400, 'invalid_name', JSON.stringify(bad));
      }
      assertError(await client.post(`${API}/me/security-keys`, { name: 'k'.repeat(300), response }), 400, 'invalid_request');
      // A refused name did not use the challenge up: the same answer with a good name is taken.
      const ok = await client.post(`${API}/me/security-keys`, { name: 'k'.repeat(64), response });
      assert.equal(ok.status, 201, ok.text);

      const dup = await addKey(client, authenticator(), ` ${'k'.repeat(64)} `);
      assertError(dup, 409, 'name_taken');
      assertError(await addKey(client, authenticator(), 'K'.repeat(64)), 409, 'name_taken', 'a name differing only in case');
      assert.equal((await keysOf(userId)).length, 1);
      // Another account may use the same name.
      const other = await signup();
      assert.equal((await addKey(other.client, authenticator(), 'k'.repeat(64))).status, 201);
    });

    test('registration: the challenge is bound to the session, single-use, and dies after 5 minutes', async () => {
      const { client, userId, email } = await signup();
      // Another session of the same account (fresh too: no 2FA yet) cannot answer this session's challenge.
      const { client: other } = await passwordStep(email);
      const options = await creationOptions(client);
      const response = authenticator().create(options.json);
      const elsewhere = await other.post(`${API}/me/security-keys`, { name: 'Elsewhere', response });
      assertError(elsewhere, 400, 'invalid_security_key');
      assert.equal((await keysOf(userId)).length, 0);

      assert.equal((await client.post(`${API}/me/security-keys`, { name: 'One', response })).status, 201);
      assertError(await client.post(`${API}/me/security-keys`, { name: 'Two', response }), 400, 'invalid_security_key');

      // A newer options call replaces the older challenge.
      const older = await creationOptions(client);
      await creationOptions(client);
      assertError(await client.post(`${API}/me/security-keys`, { name: 'Older', response: authenticator().create(older.json) }), 400, 'invalid_security_key');

      // Expiry with the manual clock: 4:59 is fine, 5:00 is dead.
      const o3 = await creationOptions(client);
      clock.advance(5 * 60_000 - 1000);
      assert.equal((await client.post(`${API}/me/security-keys`, { name: 'In time', response: authenticator().create(o3.json) })).status, 201);
      const o4 = await creationOptions(client);
      clock.advance(5 * 60_000);
      const late = await client.post(`${API}/me/security-keys`, { name: 'Too late', response: authenticator().create(o4.json) });
      assertError(late, 400, 'invalid_security_key');
      assert.match(late.json.error.message, /expired/);
      assert.equal((await keysOf(userId)).length, 2);
    });

    test('registration without user presence, from another origin, or malformed is refused', async () => {
      const { client, userId } = await signup();
      const noUp = await addKey(client, authenticator(), 'No touch', { userPresent: false });
      assertError(noUp, 400, 'invalid_security_key');
      assert.match(noUp.json.error.message, /touch/);
      assertError(await addKey(client, authenticator(), 'Phish', { origin: 'https://evil.example' }), 400, 'invalid_security_key');
      const options = await creationOptions(client);
      const good = authenticator().create(options.json);
      const malformed = { ...good, response: { ...good.response, attestationObject: '' } };
      assertError(await client.post(`${API}/me/security-keys`, { name: 'Bad', response: malformed }), 400, 'invalid_request');
      assert.equal((await client.post(`${API}/me/security-keys`, { name: 'Good', response: good })).status, 201, 'malformed input did not use the challenge');
      assert.equal((await keysOf(userId)).length, 1);
    });

    test('a credential id belongs to one account: registering it for a second account is refused', async () => {
      const a = await accountWithKey();
      const [cred] = await keysOf(a.userId);
      const b = await signup();
      const r = await addKey(b.client, authenticator(), 'Copied', { credentialId: Buffer.from(cred!.credential_id, 'base64url') });
      assertError(r, 409, 'key_already_registered');
      assert.equal((await keysOf(b.userId)).length, 0);
      const me = await b.client.get(`${API}/me`);
      assert.equal(me.json.twoFactor.enabled, false, '2FA did not turn on');
      assert.equal(me.json.twoFactor.recoveryCodesRemaining, 0, 'no recovery codes were issued');
    });

    // ---- login ----

    test('login with a key: methods include webauthn; options list the keys; a new fresh session', async () => {
      const { email, auth, userId } = await accountWithKey();
      const { client, answer } = await passwordStep(email);
      assert.deepEqual(answer.json, { status: 'two_factor_required', methods: ['webauthn', 'recovery_code'] });
      const pendingToken = client.cookies.get('twofold_session');
      const options = await loginOptions(client);
      assert.equal(options.status, 200, options.text);
      assert.equal(options.json.rpId, 'localhost');
      assert.equal(options.json.userVerification, 'discouraged');
      assert.deepEqual(
        options.json.allowCredentials.map((c: { id: string }) => c.id),
        (await keysOf(userId)).map((k) => k.credential_id),
      );
      const r = await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: auth.get(options.json) });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: 'ok' });
      assert.notEqual(client.cookies.get('twofold_session'), pendingToken);
      assert.equal((await client.get(`${API}/me`)).status, 200);
      assert.equal((await creationOptions(client)).status, 200, 'a key login is fresh');

      const list = await client.get(`${API}/me/security-keys`);
      assert.equal(list.json[0].lastUsedAt, new Date(clock.now()).toISOString());
      const [key] = await keysOf(userId);
      assert.equal(Number(key!.counter), 2, 'registration counter 1, then the assertion’s 2');
      const [login] = await events(userId, 'login');
      assert.deepEqual(login!.detail, { method: 'webauthn' });
    });

    test('key options and key answers need a pending login; an account without keys has no webauthn', async () => {
      const { client } = await accountWithKey();
      assertError(await loginOptions(client), 401, 'no_pending_login');
      assertError(await loginOptions(server.client()), 401, 'no_pending_login');

      const app = await signup();
      await enableTwoFactor(app.client, clock);
      const { client: pending } = await passwordStep(app.email);
      assertError(await loginOptions(pending), 400, 'method_not_available');
      const r = await pending.post(`${API}/login/two-factor`, { method: 'webauthn', response: { id: 'abc', rawId: 'abc', type: 'public-key', response: {} } });
      assertError(r, 400, 'method_not_available');
      assertError(await pending.post(`${API}/login/two-factor`, { method: 'webauthn' }), 400, 'invalid_request');
    });

    test('"Trust this device" works with a key', async () => {
      const { email, auth } = await accountWithKey();
      const { client, result } = await keyLogin(email, auth, { trustDevice: true });
      assert.equal(result.status, 200, result.text);
      assert.ok(client.cookies.get(DEVICE_COOKIE), 'a device cookie');
      const again = await client.post(`${API}/login`, { email, password: PASSWORD });
      assert.deepEqual(again.json, { status: 'ok' }, 'the second factor is skipped on this device');
      assertError(await creationOptions(client), 403, 'reauthentication_required');
    });

    test('a key still works while wrong app codes have locked the account', async () => {
      const account = await signup();
      const { secret } = await enableTwoFactor(account.client, clock);
      const auth = authenticator();
      assert.equal((await addKey(account.client, auth, 'Work key')).status, 201);

      const { client } = await passwordStep(account.email);
      nextStep(clock);
      for (let i = 0; i < 5; i++) {
        assertError(await client.post(`${API}/login/two-factor`, { method: 'totp', code: wrongCode(secret, clock.now(), i) }), 401, 'invalid_code');
      }
      const locked = await client.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(secret, clock.now()) });
      assertError(locked, 429, 'too_many_attempts');
      const options = await loginOptions(client);
      assert.equal(options.status, 200, options.text);
      const r = await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: auth.get(options.json) });
      assert.equal(r.status, 200, r.text);
    });

    test('login: a challenge is single-use; an answer to an older challenge is refused', async () => {
      const { email, auth, userId } = await accountWithKey();
      const { client } = await passwordStep(email);
      const options = await loginOptions(client);
      const good = auth.get(options.json);
      const forged = auth.get(options.json, { badSignature: true });
      assertError(await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: forged }), 401, 'invalid_code');
      tick();
      const reused = await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: good });
      assertError(reused, 401, 'invalid_code');
      assert.match(reused.json.error.message, /used already|never started/);
      const failed = await events(userId, 'security_key_failed');
      assert.deepEqual(failed.map((e) => e.detail?.reason), ['challenge_missing', 'bad_signature']);

      // A new challenge; the answer to the old one does not fit it.
      await loginOptions(client);
      const stale = auth.get(options.json);
      tick();
      assertError(await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: stale }), 401, 'invalid_code');
      assert.equal((await events(userId, 'security_key_failed'))[0]!.detail?.reason, 'wrong_challenge');
      const ok = await keyLogin(email, auth);
      assert.equal(ok.result.status, 200, ok.result.text);
      // Replaying the successful answer on a new login is refused.
      const { client: next } = await passwordStep(email);
      await loginOptions(next);
      assertError(await next.post(`${API}/login/two-factor`, { method: 'webauthn', response: ok.response }), 401, 'invalid_code');
    });

    test('login: an expired challenge is refused (manual clock)', async () => {
      const { email, auth, userId } = await accountWithKey();
      // A pending login dies after 5 minutes, never later than a challenge issued to it, so the
      // clock alone cannot outlive the challenge but not the login: the challenge is aged in the
      // database instead. (Registration and reauthentication test expiry by the clock alone.)
      const { client } = await passwordStep(email);
      const options = await loginOptions(client);
      await server.ctx.db.updateTable('challenges').set({ expires_at: clock.now() }).where('user_id', '=', userId).execute();
      const r = await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: auth.get(options.json) });
      assertError(r, 401, 'invalid_code');
      assert.match(r.json.error.message, /expired/);
      assert.equal((await events(userId, 'security_key_failed'))[0]!.detail?.reason, 'challenge_expired');

      // And by the clock alone: 4:59 after the options the answer is still good.
      const { client: c2 } = await passwordStep(email);
      const o2 = await loginOptions(c2);
      clock.advance(5 * 60_000 - 1000);
      assert.equal((await c2.post(`${API}/login/two-factor`, { method: 'webauthn', response: auth.get(o2.json) })).status, 200);
    });

    test('a bogus signature is refused and logged', async () => {
      const { email, auth, userId } = await accountWithKey();
      const { client, result } = await keyLogin(email, auth, { knobs: { badSignature: true } });
      assertError(result, 401, 'invalid_code');
      assertError(await client.get(`${API}/me`), 401, 'unauthenticated');
      const [e] = await events(userId, 'security_key_failed');
      assert.deepEqual(e!.detail, { reason: 'bad_signature', during: 'login', key: 'Blue key' });
      const [key] = await keysOf(userId);
      assert.equal(Number(key!.counter), 1, 'a refused answer does not move the counter');
    });

    test('an answer without user presence (UP flag) is refused and logged', async () => {
      const { email, auth, userId } = await accountWithKey();
      const { result } = await keyLogin(email, auth, { knobs: { userPresent: false } });
      assertError(result, 401, 'invalid_code');
      assert.equal((await events(userId, 'security_key_failed'))[0]!.detail?.reason, 'no_user_presence');
    });

    test('an answer for another origin is refused', async () => {
      const { email, auth, userId } = await accountWithKey();
      const { result } = await keyLogin(email, auth, { knobs: { origin: 'https://phishing.example' } });
      assertError(result, 401, 'invalid_code');
      assert.equal((await events(userId, 'security_key_failed'))[0]!.detail?.reason, 'wrong_origin');
    });

    test('a counter that does not increase is refused and logged as a possibly cloned key', async () => {
      const { email, auth, userId } = await accountWithKey();
      assert.equal((await keyLogin(email, auth)).result.status, 200); // stored counter now 2
      for (const counter of [2, 1, 0]) {
        const { result } = await keyLogin(email, auth, { knobs: { counter } });
        assertError(result, 401, 'invalid_code', `counter ${counter}`);
        assert.match(result.json.error.message, /copied/);
      }
      const cloned = await events(userId, 'security_key_possibly_cloned');
      assert.equal(cloned.length, 3);
      assert.deepEqual(cloned[0]!.detail, { key: 'Blue key', storedCounter: 2, receivedCounter: 0, during: 'login' });
      assert.equal(Number((await keysOf(userId))[0]!.counter), 2);
      // A forged answer with a low counter is a bad signature, never a "cloned key".
      const forged = await keyLogin(email, auth, { knobs: { counter: 1, badSignature: true } });
      assertError(forged.result, 401, 'invalid_code');
      assert.equal((await events(userId, 'security_key_possibly_cloned')).length, 3);
      // The genuine key, counting on, still works.
      assert.equal((await keyLogin(email, auth)).result.status, 200);
    });

    test('a key without a counter (always 0) works every time', async () => {
      const { email, auth, userId } = await accountWithKey(false);
      for (let i = 0; i < 3; i++) assert.equal((await keyLogin(email, auth)).result.status, 200);
      assert.equal(Number((await keysOf(userId))[0]!.counter), 0);
    });

    test('another account’s key, or an unknown one, is refused for this account', async () => {
      const a = await accountWithKey();
      const b = await accountWithKey();
      const { client, options } = await (async () => {
        const { client } = await passwordStep(a.email);
        return { client, options: (await loginOptions(client)).json };
      })();
      // B's key answers A's challenge with B's own credential: valid signature, wrong account.
      const bCredential = [...b.auth.credentials.keys()][0]!;
      const r = await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: b.auth.get(options, { credentialId: bCredential }) });
      assertError(r, 401, 'invalid_code');
      assert.equal((await events(a.userId, 'security_key_failed'))[0]!.detail?.reason, 'unknown_credential');
      assert.equal((await events(b.userId, 'security_key_failed')).length, 0, 'nothing is written to the other account');

      const stranger = authenticator();
      stranger.create({ challenge: 'x', rp: { id: 'localhost', name: 'x' } });
      const o2 = (await loginOptions(client)).json;
      assertError(await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: stranger.get(o2) }), 401, 'invalid_code');
      assert.equal((await events(a.userId, 'security_key_failed'))[0]!.detail?.reason, 'unknown_credential');
      const o3 = (await loginOptions(client)).json;
      assert.equal((await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: a.auth.get(o3) })).status, 200);
    });

    // ---- reauthentication ----

    test('POST /me/reauthenticate with a key makes a trusted-device session fresh', async () => {
      const { email, auth, userId } = await accountWithKey();
      const { client } = await keyLogin(email, auth, { trustDevice: true });
      await client.post(`${API}/login`, { email, password: PASSWORD }); // skips the key: not fresh
      assertError(await creationOptions(client), 403, 'reauthentication_required');

      const options = await client.post(`${API}/me/reauthenticate/webauthn/options`);
      assert.equal(options.status, 200, options.text);
      assertError(
        await reauthenticate(client, { password: 'wrong password', method: 'webauthn', response: auth.get(options.json) }),
        401,
        'invalid_credentials',
      );
      // The wrong password used the challenge up: ask again.
      const again = await client.post(`${API}/me/reauthenticate/webauthn/options`);
      const r = await reauthenticate(client, { password: PASSWORD, method: 'webauthn', response: auth.get(again.json) });
      assert.equal(r.status, 204, r.text);
      assert.equal((await creationOptions(client)).status, 200, 'fresh now');
      const [e] = await events(userId, 'reauthenticated');
      assert.deepEqual(e!.detail, { method: 'webauthn' });
    });

    test('reauthentication: a challenge of another ceremony does not count', async () => {
      const { email, auth, userId } = await accountWithKey();
      const { client } = await keyLogin(email, auth);
      const creation = await creationOptions(client); // purpose: registration
      const forged = auth.get({ challenge: creation.json.challenge, rpId: 'localhost' });
      const r = await reauthenticate(client, { password: PASSWORD, method: 'webauthn', response: forged });
      assertError(r, 401, 'invalid_code');
      assert.equal((await events(userId, 'security_key_failed'))[0]!.detail?.reason, 'challenge_missing');
      // With a reauthentication challenge waiting, an answer to the registration challenge does not fit it.
      await client.post(`${API}/me/reauthenticate/webauthn/options`);
      const r2 = await reauthenticate(client, { password: PASSWORD, method: 'webauthn', response: auth.get({ challenge: creation.json.challenge, rpId: 'localhost' }) });
      assertError(r2, 401, 'invalid_code');
      assert.equal((await events(userId, 'security_key_failed'))[0]!.detail?.reason, 'wrong_challenge');
      // A challenge expires after 5 minutes here too.
      const o = await client.post(`${API}/me/reauthenticate/webauthn/options`);
      clock.advance(5 * 60_000);
      const late = await reauthenticate(client, { password: PASSWORD, method: 'webauthn', response: auth.get(o.json) });
      assertError(late, 401, 'invalid_code');
      assert.equal((await events(userId, 'security_key_failed'))[0]!.detail?.reason, 'challenge_expired');
    });

    // ---- list and remove ----

    test('list and remove (fresh): the last key without an app turns 2FA off, with its codes and devices', async () => {
      const { email, auth, userId, client: first } = await accountWithKey();
      const list = await first.get(`${API}/me/security-keys`);
      assert.equal(list.status, 200);
      assert.equal(list.json.length, 1);
      assert.deepEqual(Object.keys(list.json[0]).sort(), ['createdAt', 'id', 'kind', 'lastUsedAt', 'name']);
      assert.equal(list.json[0].name, 'Blue key');
      assert.equal(list.json[0].lastUsedAt, null);
      assert.equal(list.json[0].createdAt, new Date(clock.now()).toISOString());

      const { client } = await keyLogin(email, auth, { trustDevice: true });
      const [key] = list.json;
      // Not fresh after 10 minutes.
      clock.advance(10 * 60_000);
      assertError(await client.delete(`${API}/me/security-keys/${key.id}`), 403, 'reauthentication_required');
      const o = await client.post(`${API}/me/reauthenticate/webauthn/options`);
      assert.equal((await reauthenticate(client, { password: PASSWORD, method: 'webauthn', response: auth.get(o.json) })).status, 204);

      assertError(await client.delete(`${API}/me/security-keys/no-such-key`), 404, 'not_found');
      const other = await accountWithKey();
      assertError(await client.delete(`${API}/me/security-keys/${other.keyId}`), 404, 'not_found');
      assert.equal((await keysOf(other.userId)).length, 1, 'another account’s key is untouched');

      assert.ok(client.cookies.get(DEVICE_COOKIE));
      const r = await client.delete(`${API}/me/security-keys/${key.id}`);
      assert.equal(r.status, 204, r.text);
      assert.equal(client.cookies.get(DEVICE_COOKIE), undefined, 'the device cookie is cleared');
      assert.deepEqual((await client.get(`${API}/me/security-keys`)).json, []);
      const me = await client.get(`${API}/me`);
      assert.deepEqual(me.json.twoFactor, { enabled: false, methods: [], recoveryCodesRemaining: 0 });
      assert.equal(await server.ctx.db.selectFrom('recovery_codes').select('id').where('user_id', '=', userId).execute().then((x) => x.length), 0);
      assert.equal(await server.ctx.db.selectFrom('trusted_devices').select('id').where('user_id', '=', userId).execute().then((x) => x.length), 0);
      const types = (await events(userId)).map((e) => e.type);
      assert.ok(types.includes('security_key_removed'));
      assert.ok(types.includes('two_factor_disabled'));
      assert.deepEqual((await events(userId, 'security_key_removed'))[0]!.detail, { name: 'Blue key' });
      // A password login is now enough.
      assert.deepEqual((await server.client().post(`${API}/login`, { email, password: PASSWORD })).json, { status: 'ok' });
    });

    test('removing one of two factors keeps 2FA on', async () => {
      const account = await signup();
      await enableTwoFactor(account.client, clock);
      const added = await addKey(account.client, authenticator(), 'Only key');
      assert.equal(added.status, 201);
      assert.equal(added.json.recoveryCodes, undefined, '2FA was already on through the app');
      assert.equal((await account.client.delete(`${API}/me/security-keys/${added.json.id}`)).status, 204);
      const me = await account.client.get(`${API}/me`);
      assert.deepEqual(me.json.twoFactor, { enabled: true, methods: ['totp', 'recovery_code'], recoveryCodesRemaining: 10 });
    });

    test('an app added to a keys-only account: logged as added, and its new codes replace the old ones', async () => {
      const account = await accountWithKey();
      tick();
      const { recoveryCodes } = await enableTwoFactor(account.client, clock);
      assert.equal(recoveryCodes.length, 10);
      const log = (await account.client.get(`${API}/me/security-log`)).json.map((e: { type: string }) => e.type);
      assert.deepEqual(log.slice(0, 2), ['recovery_codes_regenerated', 'authenticator_app_added']);
      assert.equal(log.filter((t: string) => t === 'two_factor_enabled').length, 1, '2FA was turned on once, by the key');
      const me = await account.client.get(`${API}/me`);
      assert.deepEqual(me.json.twoFactor.methods, ['totp', 'webauthn', 'recovery_code']);
      const { client } = await passwordStep(account.email);
      tick();
      assertError(await client.post(`${API}/login/two-factor`, { method: 'recovery_code', code: account.recoveryCodes[0] }), 401, 'invalid_code', 'an old code');
      tick();
      const fresh = await client.post(`${API}/login/two-factor`, { method: 'recovery_code', code: recoveryCodes[0] });
      assert.equal(fresh.status, 200, fresh.text);
    });

    test('disable removes the keys', async () => {
      const { client, userId } = await accountWithKey();
      assert.equal((await addKey(client, authenticator(), 'Second')).status, 201);
      assert.equal((await keysOf(userId)).length, 2);
      const r = await client.delete(`${API}/me/two-factor`, { password: PASSWORD });
      assert.equal(r.status, 204, r.text);
      assert.equal((await keysOf(userId)).length, 0);
      assert.deepEqual((await client.get(`${API}/me/security-keys`)).json, []);
      assert.equal((await client.get(`${API}/me`)).json.twoFactor.enabled, false);
      const pending = await passwordStep((await server.ctx.db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirstOrThrow()).email);
      assert.deepEqual(pending.answer.json, { status: 'ok' }, 'no key is asked for any more');
    });
  });
}
