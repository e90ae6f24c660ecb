import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { hashToken } from '../../src/core/token.js';
import type { Answer, Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startAnotherNode, startTestServer, type TestServer } from '../helpers/server.js';
import { SoftAuthenticator, type AssertionKnobs, type CreationKnobs } from '../helpers/soft-authenticator.js';
import { API, PASSWORD, assertError } from '../helpers/totp.js';

/** Google Password Manager's AAGUID, as listed by the aaguids package. */
const GPM_AAGUID = Buffer.from('ea9b8d664d011d213ce4b6b48cb575d4', 'hex');
const CEREMONY_COOKIE = 'twofold_passkey';

/** The same browser talking to another node: it carries its cookies over. */
function onNode(node: TestServer, browser: Client): Client {
  const moved = node.client();
  for (const [name, value] of browser.cookies) moved.cookies.set(name, value);
  return moved;
}

for (const { kind, skip } of databaseKinds()) {
  describe(`passkeys (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    let accounts = 0;
    before(async () => {
      server = await startTestServer(kind, { clock });
    });
    after(async () => {
      await server?.close();
    });

    const tick = () => clock.advance(1);
    const authenticator = () => new SoftAuthenticator(server.config.publicOrigin);

    async function signup(): Promise<{ email: string; client: Client; userId: string }> {
      const email = `passkey-${++accounts}@example.com`;
      const client = server.client();
      const r = await client.post(`${API}/signup`, { email, password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      return { email, client, userId: r.json.user.id };
    }

    async function addPasskey(client: Client, auth: SoftAuthenticator, body: { name?: string } = {}, knobs: CreationKnobs = {}): Promise<Answer> {
      const options = await client.post(`${API}/me/passkeys/options`);
      assert.equal(options.status, 200, options.text);
      tick();
      return client.post(`${API}/me/passkeys`, { ...body, response: auth.create(options.json, knobs) });
    }

    async function accountWithPasskey() {
      const account = await signup();
      const auth = authenticator();
      const added = await addPasskey(account.client, auth);
      assert.equal(added.status, 201, added.text);
      return { ...account, auth, keyId: added.json.id as string };
    }

    /** A browser with no session asks for options, the authenticator answers, the answer is sent. */
    async function passkeySignIn(auth: SoftAuthenticator, knobs: AssertionKnobs = {}, client: Client = server.client()) {
      tick();
      const options = await client.post(`${API}/login/passkey/options`);
      assert.equal(options.status, 200, options.text);
      const response = auth.get(options.json, knobs);
      tick();
      const result = await client.post(`${API}/login/passkey`, { response });
      return { client, options: options.json, response, result };
    }

    async function events(userId: string, type?: string): Promise<{ type: string; detail: Record<string, unknown> | null }[]> {
      let q = server.ctx.db.selectFrom('security_events').select(['type', 'detail', 'at']).where('user_id', '=', userId);
      if (type) q = q.where('type', '=', type);
      const rows = await q.orderBy('at', 'desc').execute();
      return rows.map((r) => ({ type: r.type, detail: r.detail ? JSON.parse(r.detail) : null }));
    }

    async function sessionRows(userId: string) {
      return server.ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).execute();
    }

    // ---- adding ----

    test('passkey creation options ask for a discoverable credential with user verification; security keys do not', async () => {
      const { client } = await signup();
      const keyOptions = await client.post(`${API}/me/security-keys/options`);
      assert.equal(keyOptions.json.authenticatorSelection.residentKey, 'discouraged');
      assert.equal(keyOptions.json.authenticatorSelection.userVerification, 'discouraged');
      const r = await client.post(`${API}/me/passkeys/options`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.authenticatorSelection.residentKey, 'required');
      assert.equal(r.json.authenticatorSelection.requireResidentKey, true);
      assert.equal(r.json.authenticatorSelection.userVerification, 'required');
      assert.equal(r.json.rp.id, 'localhost');
      assert.equal(r.json.attestation, 'none');
    });

    test('a passkey is named after its model, numbered when the name is used, and turns 2FA on like any key', async () => {
      const { client, userId } = await signup();
      const auth = authenticator();
      const first = await addPasskey(client, auth, {}, { aaguid: GPM_AAGUID });
      assert.equal(first.status, 201, first.text);
      assert.equal(first.json.kind, 'passkey');
      assert.equal(first.json.name, 'Google Password Manager');
      assert.equal(first.json.recoveryCodes.length, 10, 'the first second factor turns 2FA on');
      const second = await addPasskey(client, authenticator(), {}, { aaguid: GPM_AAGUID });
      assert.equal(second.json.name, 'Google Password Manager 2');
      assert.equal(second.json.recoveryCodes, undefined);
      const unknownModel = await addPasskey(client, authenticator(), { name: '  ' });
      assert.equal(unknownModel.json.name, 'Passkey');
      const named = await addPasskey(client, authenticator(), { name: 'Work laptop' });
      assert.equal(named.json.name, 'Work laptop');

      const list = await client.get(`${API}/me/security-keys`);
      assert.deepEqual(
        list.json.map((k: { kind: string; name: string }) => [k.kind, k.name]),
        [
          ['passkey', 'Google Password Manager'],
          ['passkey', 'Google Password Manager 2'],
          ['passkey', 'Passkey'],
          ['passkey', 'Work laptop'],
        ],
      );
      const row = await server.ctx.db.selectFrom('security_keys').selectAll().where('id', '=', first.json.id).executeTakeFirstOrThrow();
      assert.equal(row.aaguid, 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4');
      assert.equal(row.kind, 'passkey');
      assert.deepEqual(
        (await events(userId, 'passkey_added')).map((e) => e.detail?.name),
        ['Work laptop', 'Passkey', 'Google Password Manager 2', 'Google Password Manager'],
      );
      const me = await client.get(`${API}/me`);
      assert.deepEqual(me.json.twoFactor.methods, ['webauthn', 'recovery_code']);
    });

    test('a passkey without user verification, or answering a security key’s challenge, is not added', async () => {
      const { client, userId } = await signup();
      const noUv = await addPasskey(client, authenticator(), {}, { userVerified: false });
      assertError(noUv, 400, 'invalid_security_key');
      assert.match(noUv.json.error.message, /PIN, fingerprint or face/);
      // The security key ceremony's challenge cannot add a passkey (and so skip its UV rule).
      const keyOptions = await client.post(`${API}/me/security-keys/options`);
      const r = await client.post(`${API}/me/passkeys`, { response: authenticator().create(keyOptions.json, { userVerified: true }) });
      assertError(r, 400, 'invalid_security_key');
      assert.equal((await server.ctx.db.selectFrom('security_keys').select('id').where('user_id', '=', userId).execute()).length, 0);
    });

    // ---- signing in ----

    test('sign-in options name no credential and require user verification; the challenge is bound by an HttpOnly cookie', async () => {
      const client = server.client();
      const r = await client.post(`${API}/login/passkey/options`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.userVerification, 'required');
      assert.ok(r.json.allowCredentials === undefined || r.json.allowCredentials.length === 0, 'no allowed-credential list');
      assert.equal(r.json.rpId, 'localhost');
      assert.equal(r.json.timeout, 5 * 60_000);
      const setCookie = r.headers.getSetCookie().find((c) => c.startsWith(`${CEREMONY_COOKIE}=`));
      assert.ok(setCookie, 'a ceremony cookie');
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Lax/i);
      assert.match(setCookie, /Max-Age=300/i);
      const row = await server.ctx.db.selectFrom('passkey_challenges').selectAll().where('challenge', '=', r.json.challenge).executeTakeFirstOrThrow();
      assert.equal(row.binding, hashToken(client.cookies.get(CEREMONY_COOKIE)!), 'only the hash of the cookie is stored');
      // A second request of the same browser keeps its cookie and adds a second challenge.
      const again = await client.post(`${API}/login/passkey/options`);
      assert.notEqual(again.json.challenge, r.json.challenge);
      assert.equal((await server.ctx.db.selectFrom('passkey_challenges').select('challenge').where('binding', '=', row.binding).execute()).length, 2);
    });

    test('a passkey signs in alone: a full, fresh session with amr hwk+user, logged as a passkey login', async () => {
      const { email, userId, auth, keyId } = await accountWithPasskey();
      const before = await server.ctx.db.selectFrom('security_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
      const { client, result } = await passkeySignIn(auth);
      assert.equal(result.status, 200, result.text);
      assert.deepEqual(result.json, { status: 'ok' });
      const me = await client.get(`${API}/me`);
      assert.equal(me.status, 200);
      assert.equal(me.json.email, email);
      // Fresh: a sensitive change works at once, without reauthentication.
      const fresh = await client.post(`${API}/me/two-factor/recovery-codes`);
      assert.equal(fresh.status, 200, fresh.text);
      const sessions = await sessionRows(userId);
      const signedIn = sessions.find((s) => s.id === hashToken(client.cookies.get('twofold_session')!));
      assert.ok(signedIn);
      assert.equal(signedIn.pending, 0);
      assert.equal(signedIn.amr, 'hwk user mfa');
      const after = await server.ctx.db.selectFrom('security_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
      assert.ok(Number(after.counter) > Number(before.counter), 'the counter moved');
      assert.notEqual(after.last_used_at, null);
      const [login] = await events(userId, 'login');
      assert.deepEqual(login!.detail, { method: 'passkey', key: 'Passkey' });
      // No trusted device is involved.
      assert.equal(client.cookies.has('twofold_device'), false);
    });

    test('an answer without user verification is refused and logged; no session', async () => {
      const { userId, auth } = await accountWithPasskey();
      const sessionsBefore = (await sessionRows(userId)).length;
      const { client, result } = await passkeySignIn(auth, { userVerified: false });
      assertError(result, 401, 'invalid_passkey');
      assert.match(result.json.error.message, /PIN, fingerprint or face/);
      assert.equal((await client.get(`${API}/me`)).status, 401);
      assert.equal((await sessionRows(userId)).length, sessionsBefore);
      const [failed] = await events(userId, 'security_key_failed');
      assert.equal(failed!.detail?.reason, 'no_user_verification');
      assert.equal(failed!.detail?.during, 'passkey_login');
    });

    test('the user handle must be present and name the passkey’s account', async () => {
      const { auth } = await accountWithPasskey();
      assertError((await passkeySignIn(auth, { userHandle: null })).result, 401, 'invalid_passkey');
      const other = await accountWithPasskey();
      const wrong = Buffer.from(other.userId, 'utf8').toString('base64url');
      assertError((await passkeySignIn(auth, { userHandle: wrong })).result, 401, 'invalid_passkey');
      assert.equal((await passkeySignIn(auth)).result.status, 200);
    });

    test('a challenge is single-use, bound to its browser, and dies after 5 minutes', async () => {
      const { auth } = await accountWithPasskey();
      const { client, response, result } = await passkeySignIn(auth);
      assert.equal(result.status, 200);
      assertError(await client.post(`${API}/login/passkey`, { response }), 401, 'passkey_request_expired');

      // Another browser (no ceremony cookie, or another one) cannot answer this browser's challenge.
      const owner = server.client();
      const options = await owner.post(`${API}/login/passkey/options`);
      const answer = auth.get(options.json);
      assertError(await server.client().post(`${API}/login/passkey`, { response: answer }), 401, 'passkey_request_expired');
      const stranger = server.client();
      await stranger.post(`${API}/login/passkey/options`);
      assertError(await stranger.post(`${API}/login/passkey`, { response: answer }), 401, 'passkey_request_expired');
      assert.equal((await owner.post(`${API}/login/passkey`, { response: answer })).status, 200, 'the owner still can');

      const late = server.client();
      const lateOptions = await late.post(`${API}/login/passkey/options`);
      clock.advance(5 * 60_000);
      const expired = await late.post(`${API}/login/passkey`, { response: auth.get(lateOptions.json) });
      assertError(expired, 401, 'passkey_request_expired');
      assert.match(expired.json.error.message, /expired/);
    });

    test('concurrent answers to one challenge: exactly one signs in', async () => {
      const { auth, userId } = await accountWithPasskey();
      const client = server.client();
      const options = await client.post(`${API}/login/passkey/options`);
      const response = auth.get(options.json);
      const sessionsBefore = (await sessionRows(userId)).length;
      const answers = await Promise.all(Array.from({ length: 8 }, () => client.post(`${API}/login/passkey`, { response })));
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401, 401, 401, 401, 401, 401, 401]);
      for (const a of answers) if (a.status === 401) assert.equal(a.json.error.code, 'passkey_request_expired');
      assert.equal((await sessionRows(userId)).length, sessionsBefore + 1);
    });

    test('a sign-in begun on one node is finished on another', async () => {
      const { auth } = await accountWithPasskey();
      const b = await startAnotherNode(server, { clock });
      try {
        const onA = server.client();
        const options = await onA.post(`${API}/login/passkey/options`);
        const onB = onNode(b, onA);
        const result = await onB.post(`${API}/login/passkey`, { response: auth.get(options.json) });
        assert.equal(result.status, 200, result.text);
        assert.equal((await onNode(server, onB).get(`${API}/me`)).status, 200);
      } finally {
        await b.close();
      }
    });

    test('an unknown or removed passkey gets a plain-words refusal; a security key cannot sign in alone', async () => {
      const { client, auth, keyId, userId } = await accountWithPasskey();
      // A 2FA security key of the same account, even one answering with UV and a user handle.
      const keyAuth = authenticator();
      const keyOptions = await client.post(`${API}/me/security-keys/options`);
      assert.equal((await client.post(`${API}/me/security-keys`, { name: 'Blue key', response: keyAuth.create(keyOptions.json) })).status, 201);
      const [keyCredential] = [...keyAuth.credentials.keys()];
      const asKey = await passkeySignIn(keyAuth, { credentialId: keyCredential!, userHandle: Buffer.from(userId).toString('base64url') });
      assertError(asKey.result, 401, 'invalid_passkey');
      assert.match(asKey.result.json.error.message, /security key added as a second step/);

      assert.equal((await client.delete(`${API}/me/security-keys/${keyId}`)).status, 204);
      const [removed] = await events(userId, 'passkey_removed');
      assert.equal(removed!.detail?.name, 'Passkey');
      const gone = await passkeySignIn(auth);
      assertError(gone.result, 401, 'unknown_passkey');
      assert.match(gone.result.json.error.message, /not registered here/);
    });

    test('the counter is checked as for keys', async () => {
      const { auth, userId } = await accountWithPasskey();
      assert.equal((await passkeySignIn(auth)).result.status, 200);
      const replayed = await passkeySignIn(auth, { counter: 1 });
      assertError(replayed.result, 401, 'invalid_passkey');
      assert.match(replayed.result.json.error.message, /counter went backwards/);
      assert.equal((await events(userId, 'security_key_possibly_cloned')).length, 1);
    });

    test('a forged signature is refused', async () => {
      const { auth, userId } = await accountWithPasskey();
      assertError((await passkeySignIn(auth, { badSignature: true })).result, 401, 'invalid_passkey');
      assert.equal((await events(userId, 'security_key_failed'))[0]!.detail?.reason, 'bad_signature');
    });

    test('a passkey is a second factor too: after a password it completes the login', async () => {
      const { email, auth } = await accountWithPasskey();
      const client = server.client();
      const login = await client.post(`${API}/login`, { email, password: PASSWORD });
      assert.equal(login.json.status, 'two_factor_required');
      const options = await client.post(`${API}/login/two-factor/webauthn/options`);
      const done = await client.post(`${API}/login/two-factor`, { method: 'webauthn', response: auth.get(options.json) });
      assert.equal(done.status, 200, done.text);
    });

    // ---- renaming ----

    test('PATCH renames a passkey or key: logged, unique regardless of case, only the account’s own', async () => {
      const { client, keyId, userId } = await accountWithPasskey();
      tick();
      const r = await client.request('PATCH', `${API}/me/security-keys/${keyId}`, { name: '  Phone  ' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.name, 'Phone');
      assert.equal(r.json.kind, 'passkey');
      const [renamed] = await events(userId, 'passkey_renamed');
      assert.deepEqual(renamed!.detail, { name: 'Phone', previousName: 'Passkey' });
      // Only the case changes: allowed.
      assert.equal((await client.request('PATCH', `${API}/me/security-keys/${keyId}`, { name: 'phone' })).status, 200);

      const keyOptions = await client.post(`${API}/me/security-keys/options`);
      const key = await client.post(`${API}/me/security-keys`, { name: 'Blue key', response: authenticator().create(keyOptions.json) });
      assertError(await client.request('PATCH', `${API}/me/security-keys/${key.json.id}`, { name: 'PHONE' }), 409, 'name_taken');
      assertError(await client.request('PATCH', `${API}/me/security-keys/${key.json.id}`, { name: '' }), 400, 'invalid_name');
      assertError(await client.request('PATCH', `${API}/me/security-keys/${key.json.id}`, { name: 'x'.repeat(65) }), 400, 'invalid_name');
      const keyRename = await client.request('PATCH', `${API}/me/security-keys/${key.json.id}`, { name: 'Red key' });
      assert.equal(keyRename.status, 200);
      assert.equal((await events(userId, 'security_key_renamed')).length, 1);

      const other = await signup();
      assertError(await other.client.request('PATCH', `${API}/me/security-keys/${keyId}`, { name: 'Mine now' }), 404, 'not_found');
      assertError(await server.client().request('PATCH', `${API}/me/security-keys/${keyId}`, { name: 'Anon' }), 401, 'unauthenticated');
      const list = await client.get(`${API}/me/security-keys`);
      assert.deepEqual(list.json.map((k: { name: string }) => k.name), ['phone', 'Red key']);
    });
  });
}
