import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { listOutbox } from '../../src/store/outbox.js';
import { assertJsonError, type Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TestSmtp } from '../helpers/smtp.js';
import { snapshotTables } from '../helpers/snapshot.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { API, assertError, codeAt, enableTwoFactor, logTypes, nextStep, PASSWORD, pendingLogin, rowsOf, totpLogin, userIdOf } from '../helpers/totp.js';

const NEW_PASSWORD = 'a brand new passphrase';

for (const { kind, skip } of databaseKinds()) {
  describe(`mail flows: reset, change of email, notices, This wasn't me (${kind})`, { skip }, () => {
    const clock = manualClock(Date.now());
    let smtp: TestSmtp;
    let server: TestServer;
    before(async () => {
      smtp = await TestSmtp.start();
      server = await startTestServer(kind, { clock, env: { TWOFOLD_SMTP_URL: smtp.url }, mail: { pollMs: 100 } });
    });
    after(async () => {
      await server?.close();
      await smtp?.down();
    });

    async function signup(email: string): Promise<Client> {
      const c = server.client({ 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' });
      const r = await c.post(`${API}/signup`, { email, password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      await smtp.find(email, /Confirm your email address/);
      return c;
    }

    test('forgot: the same 202 for known and unknown addresses; 3 messages per account per hour', async () => {
      await signup('forgot@example.com');
      const c = server.client();
      const known = await c.post(`${API}/password/forgot`, { email: 'Forgot@Example.com' });
      const unknown = await c.post(`${API}/password/forgot`, { email: 'nobody@example.com' });
      assert.equal(known.status, 202);
      assert.equal(unknown.status, 202);
      assert.deepEqual(known.json, unknown.json);
      assertJsonError(await c.post(`${API}/password/forgot`, { email: 'not an address' }), 'malformed', 400);
      const mail = await smtp.find('forgot@example.com', /Reset your password/);
      assert.ok(TestSmtp.token(mail, '/password/reset'));
      assert.ok(!mail.raw.includes(PASSWORD));
      await c.post(`${API}/password/forgot`, { email: 'forgot@example.com' });
      await c.post(`${API}/password/forgot`, { email: 'forgot@example.com' });
      await c.post(`${API}/password/forgot`, { email: 'forgot@example.com' });
      const id = await userIdOf(server, 'forgot@example.com');
      const tokens = await server.ctx.db.selectFrom('email_tokens').select('id').where('user_id', '=', id).where('purpose', '=', 'password_reset').execute();
      assert.equal(tokens.length, 3, 'the fourth request within the hour sends nothing');
      const resetMails = (await listOutbox(server.ctx.db)).filter((m) => m.userId === id && m.kind === 'password_reset');
      assert.equal(resetMails.length, 3);
      assert.equal((await listOutbox(server.ctx.db)).filter((m) => m.to === 'nobody@example.com').length, 0);
      clock.advance(60 * 60_000);
      await c.post(`${API}/password/forgot`, { email: 'forgot@example.com' });
      await smtp.find('forgot@example.com', /Reset your password/);
    });

    test('reset without 2FA: new password, every session ends, the address counts as verified, a notice goes out; single use', async () => {
      const owner = await signup('reset@example.com');
      await server.client().post(`${API}/password/forgot`, { email: 'reset@example.com' });
      const token = TestSmtp.token(await smtp.find('reset@example.com', /Reset your password/), '/password/reset');
      const c = server.client();
      assertError(await c.post(`${API}/password/reset`, { token, password: 'short' }), 400, 'password_too_short');
      const r = await c.post(`${API}/password/reset`, { token, password: NEW_PASSWORD });
      assert.equal(r.status, 204, r.text);
      assert.equal((await owner.get(`${API}/me`)).status, 401, 'the old session ended');
      assertError(await c.post(`${API}/password/reset`, { token, password: NEW_PASSWORD + '2' }), 400, 'invalid_token');
      const notice = await smtp.find('reset@example.com', /Your password was reset/);
      assert.ok(TestSmtp.link(notice, '/account/secure'));
      const fresh = server.client();
      assert.equal((await fresh.post(`${API}/login`, { email: 'reset@example.com', password: PASSWORD })).status, 401);
      assert.equal((await fresh.post(`${API}/login`, { email: 'reset@example.com', password: NEW_PASSWORD })).status, 200);
      assert.equal((await fresh.get(`${API}/me`)).json.emailVerified, true);
      assert.ok((await logTypes(fresh)).includes('password_reset'));
    });

    test('reset with 2FA: the second factor is asked before anything changes; a refused attempt consumes nothing; the code lock applies', async () => {
      const owner = await signup('reset2fa@example.com');
      nextStep(clock);
      const { secret, recoveryCodes } = await enableTwoFactor(owner, clock);
      await smtp.find('reset2fa@example.com', /Two-factor authentication was turned on/);
      // A trusted device, to see it revoked.
      const { client: trusted } = await totpLogin(server, clock, { email: 'reset2fa@example.com', password: PASSWORD, secret, recoveryCodes, client: owner }, { trustDevice: true });
      const userId = await userIdOf(server, 'reset2fa@example.com');
      assert.equal((await rowsOf(server, 'trusted_devices', userId)).length, 1);

      await server.client().post(`${API}/password/forgot`, { email: 'reset2fa@example.com' });
      const token = TestSmtp.token(await smtp.find('reset2fa@example.com', /Reset your password/), '/password/reset');
      const c = server.client();
      const snap = await snapshotTables(server.ctx.db);
      assertError(await c.post(`${API}/password/reset`, { token, password: NEW_PASSWORD }), 400, 'second_factor_required');
      nextStep(clock);
      const wrong = codeAt(secret, clock.now() - 5 * 60_000);
      assertError(await c.post(`${API}/password/reset`, { token, password: NEW_PASSWORD, method: 'totp', code: wrong }), 401, 'invalid_code');
      const tokenRow = await server.ctx.db.selectFrom('email_tokens').select('used_at').where('purpose', '=', 'password_reset').where('user_id', '=', userId).executeTakeFirstOrThrow();
      assert.equal(tokenRow.used_at, null, 'the link is not used up by a refused attempt');
      assert.deepEqual((await snapshotTables(server.ctx.db)).users, snap.users, 'the password did not change');
      // Four more wrong codes: the account's code lock (shared with login) refuses even a right one.
      for (let i = 1; i <= 4; i++) await c.post(`${API}/password/reset`, { token, password: NEW_PASSWORD, method: 'totp', code: codeAt(secret, clock.now() - (5 + i) * 60_000) });
      const locked = await c.post(`${API}/password/reset`, { token, password: NEW_PASSWORD, method: 'totp', code: codeAt(secret, clock.now()) });
      assertError(locked, 429, 'too_many_attempts');
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      await smtp.find('reset2fa@example.com', /locked/);
      // …and so does the login page's lock: they are one lock.
      const loginLock = await (await pendingLogin(server, { email: 'reset2fa@example.com', password: PASSWORD })).post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(secret, clock.now()) });
      assertError(loginLock, 429, 'too_many_attempts');
      clock.advance(60 * 60_000);
      await server.client().post(`${API}/password/forgot`, { email: 'reset2fa@example.com' });
      const token2 = TestSmtp.token(await smtp.find('reset2fa@example.com', /Reset your password/), '/password/reset');
      const ok = await c.post(`${API}/password/reset`, { token: token2, password: NEW_PASSWORD, method: 'recovery_code', code: recoveryCodes[0] });
      assert.equal(ok.status, 204, ok.text);
      assert.equal((await rowsOf(server, 'trusted_devices', userId)).length, 0, 'trusted devices revoked');
      assert.equal((await rowsOf(server, 'sessions', userId)).length, 0, 'every session ended');
      assert.equal((await trusted.get(`${API}/me`)).status, 401);
      // The first link is dead too (a newer password).
      assertError(await c.post(`${API}/password/reset`, { token, password: NEW_PASSWORD, method: 'totp', code: codeAt(secret, clock.now()) }), 400, 'invalid_token');
      // 2FA is still on: the new password alone is only a pending login.
      const again = await server.client().post(`${API}/login`, { email: 'reset2fa@example.com', password: NEW_PASSWORD });
      assert.equal(again.json.status, 'two_factor_required');
    });

    test('notices name what happened with IP and browser and never a code; This wasn’t me removes the added app, ends sessions, forces a reset', async () => {
      const owner = await signup('secure@example.com');
      nextStep(clock);
      const { secret } = await enableTwoFactor(owner, clock);
      const notice = await smtp.find('secure@example.com', /Two-factor authentication was turned on/);
      const text = notice.parsed.text ?? '';
      assert.match(text, /When: \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      assert.match(text, /IP address: 127\.0\.0\.1/);
      assert.match(text, /Browser: Firefox on Linux/);
      assert.ok(!text.includes(secret) && !notice.raw.includes(secret), 'no TOTP secret');
      const secureToken = TestSmtp.token(notice, '/account/secure');
      const userId = await userIdOf(server, 'secure@example.com');

      assertError(await server.client().post(`${API}/account/secure`, { token: 'A'.repeat(43) }), 400, 'invalid_token');
      const r = await server.client().post(`${API}/account/secure`, { token: secureToken });
      assert.equal(r.status, 204, r.text);
      assertError(await server.client().post(`${API}/account/secure`, { token: secureToken }), 400, 'invalid_token');
      assert.equal((await owner.get(`${API}/me`)).status, 401, 'sessions ended');
      assert.equal((await rowsOf(server, 'totp_credentials', userId)).length, 0, 'the app the notice announced is removed');
      assert.equal((await rowsOf(server, 'recovery_codes', userId)).length, 0, 'it was the only factor');
      await smtp.find('secure@example.com', /Your account was secured/);

      const login = await server.client().post(`${API}/login`, { email: 'secure@example.com', password: PASSWORD });
      assertError(login, 403, 'password_reset_required');
      const link = TestSmtp.token(await smtp.find('secure@example.com', /Choose a new password/), '/password/reset');
      assert.equal((await server.client().post(`${API}/password/reset`, { token: link, password: NEW_PASSWORD })).status, 204);
      const after = await server.client().post(`${API}/login`, { email: 'secure@example.com', password: NEW_PASSWORD });
      assert.equal(after.status, 200, after.text);
      assert.equal(after.json.status, 'ok');
    });

    test('change of email: fresh only; a link to the new address; the old address is told; 409 when taken', async () => {
      const c = await signup('old@example.com');
      await signup('taken@example.com');
      assertError(await c.post(`${API}/me/email`, { email: 'taken@example.com' }), 409, 'email_taken');
      assertError(await c.post(`${API}/me/email`, { email: 'nope' }), 400, 'invalid_email');
      const r = await c.post(`${API}/me/email`, { email: 'New@Example.com' });
      assert.equal(r.status, 202, r.text);
      assert.equal((await c.get(`${API}/me`)).json.email, 'old@example.com', 'nothing changes before the link');
      const mail = await smtp.find('New@Example.com', /Confirm your new email address/);
      const v = await server.client().post(`${API}/email/verify`, { token: TestSmtp.token(mail, '/email/verify') });
      assert.equal(v.status, 200, v.text);
      assert.deepEqual(v.json, { status: 'changed', email: 'New@Example.com' });
      const me = (await c.get(`${API}/me`)).json;
      assert.equal(me.email, 'New@Example.com');
      assert.equal(me.emailVerified, true);
      const told = await smtp.find('old@example.com', /Your email address was changed/);
      assert.match(told.parsed.text ?? '', /New@Example\.com/);
      clock.advance(11 * 60_000);
      assertError(await c.post(`${API}/me/email`, { email: 'later@example.com' }), 403, 'reauthentication_required');
    });

    test('new-device sign-in notice: only for a browser new to the account', async () => {
      await signup('device@example.com');
      const same = server.client({ 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' });
      assert.equal((await same.post(`${API}/login`, { email: 'device@example.com', password: PASSWORD })).status, 200);
      const other = server.client({ 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1' });
      assert.equal((await other.post(`${API}/login`, { email: 'device@example.com', password: PASSWORD })).status, 200);
      const m = await smtp.find('device@example.com', /New sign-in/);
      assert.match(m.parsed.text ?? '', /Safari on iOS/);
      const kinds = (await listOutbox(server.ctx.db)).filter((x) => x.to === 'device@example.com').map((x) => x.kind);
      assert.deepEqual(kinds.filter((k) => k === 'new_device_sign_in').length, 1);
    });

    test('new-device notice with 2FA: the browser is recognised only once its second step is done', async () => {
      const owner = await signup('device2fa@example.com');
      nextStep(clock);
      const { secret } = await enableTwoFactor(owner, clock);
      const userId = await userIdOf(server, 'device2fa@example.com');
      const notices = async () => (await listOutbox(server.ctx.db)).filter((x) => x.userId === userId && x.kind === 'new_device_sign_in').length;
      const android = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36';
      const phone = server.client({ 'user-agent': android });
      const step1 = await phone.post(`${API}/login`, { email: 'device2fa@example.com', password: PASSWORD });
      assert.equal(step1.json.status, 'two_factor_required');
      // The password alone does not make this a browser that signed in (nor one with a budget of its own).
      assert.equal(phone.cookies.has('twofold_known'), false);
      nextStep(clock);
      assert.equal((await phone.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(secret, clock.now()) })).status, 200);
      assert.ok(phone.cookies.has('twofold_known'));
      assert.match((await smtp.find('device2fa@example.com', /New sign-in/)).parsed.text ?? '', /Android/);
      assert.equal(await notices(), 1);

      // The same browser after an update (another user agent) is recognised by its cookie.
      const updated = server.client({ 'user-agent': android.replace('126.0', '127.0') });
      updated.cookies.set('twofold_known', phone.cookies.get('twofold_known')!);
      assert.equal((await updated.post(`${API}/login`, { email: 'device2fa@example.com', password: PASSWORD })).json.status, 'two_factor_required');
      nextStep(clock);
      assert.equal((await updated.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(secret, clock.now()) })).status, 200);
      assert.equal(await notices(), 1);

      // A password step that never finishes leaves a later browser new: it is told of.
      const stranger = server.client({ 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0' });
      assert.equal((await stranger.post(`${API}/login`, { email: 'device2fa@example.com', password: PASSWORD })).json.status, 'two_factor_required');
      assert.equal(await notices(), 1, 'no notice before the second step');
      nextStep(clock);
      assert.equal((await stranger.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(secret, clock.now()) })).status, 200);
      assert.equal(await notices(), 2);
    });

    test('single use under concurrent requests: one link, ten requests at once, one success', async () => {
      const owner = await signup('race@example.com');
      nextStep(clock);
      await enableTwoFactor(owner, clock);
      const token = TestSmtp.token(await smtp.find('race@example.com', /Two-factor authentication was turned on/), '/account/secure');
      const answers = await Promise.all(Array.from({ length: 10 }, () => server.client().post(`${API}/account/secure`, { token })));
      assert.deepEqual(answers.map((a) => a.status).sort(), [204, ...Array(9).fill(400)]);
      const userId = await userIdOf(server, 'race@example.com');
      const secured = await server.ctx.db.selectFrom('security_events').select('id').where('user_id', '=', userId).where('type', '=', 'account_secured').execute();
      assert.equal(secured.length, 1);

      await server.client().post(`${API}/password/forgot`, { email: 'race@example.com' });
      const reset = TestSmtp.token(await smtp.find('race@example.com', /Reset your password/), '/password/reset');
      const r2 = await Promise.all(Array.from({ length: 6 }, (_, i) => server.client().post(`${API}/password/reset`, { token: reset, password: `${NEW_PASSWORD} ${i}` })));
      // The account has no factor left (the app was removed): each request may go on to the write.
      assert.equal(r2.filter((a) => a.status === 204).length, 1, r2.map((a) => a.status).join());
      assert.ok(r2.every((a) => a.status === 204 || a.json.error.code === 'invalid_token'));
    });

    test('reset with a security key: options bound to the link, one challenge per answer, a refused key consumes nothing', async () => {
      const c = await signup('keyreset@example.com');
      const auth = new SoftAuthenticator(server.config.publicOrigin);
      const opts = await c.post(`${API}/me/security-keys/options`);
      assert.equal(opts.status, 200, opts.text);
      const added = await c.post(`${API}/me/security-keys`, { name: 'Blue key', response: auth.create(opts.json) });
      assert.equal(added.status, 201, added.text);
      await server.client().post(`${API}/password/forgot`, { email: 'keyreset@example.com' });
      const token = TestSmtp.token(await smtp.find('keyreset@example.com', /Reset your password/), '/password/reset');
      const anon = server.client();
      assertError(await anon.post(`${API}/password/reset/webauthn/options?token=${'A'.repeat(43)}`), 400, 'invalid_token');
      assertError(await anon.post(`${API}/password/reset`, { token, password: NEW_PASSWORD, method: 'webauthn' }), 400, 'second_factor_required');
      // An answer to no challenge, then one signed for another origin: refused, the link stays.
      const o1 = await anon.post(`${API}/password/reset/webauthn/options?token=${token}`);
      assert.equal(o1.status, 200, o1.text);
      const evil = new SoftAuthenticator('https://evil.example');
      for (const cred of auth.credentials) evil.credentials.set(...cred);
      assertError(await anon.post(`${API}/password/reset`, { token, password: NEW_PASSWORD, method: 'webauthn', response: evil.get(o1.json) }), 401, 'invalid_code');
      assertError(await anon.post(`${API}/password/reset`, { token, password: NEW_PASSWORD, method: 'webauthn', response: auth.get(o1.json) }), 401, 'invalid_code');
      const o2 = await anon.post(`${API}/password/reset/webauthn/options?token=${token}`);
      const r = await anon.post(`${API}/password/reset`, { token, password: NEW_PASSWORD, method: 'webauthn', response: auth.get(o2.json) });
      assert.equal(r.status, 204, r.text);
      assert.equal((await c.get(`${API}/me`)).status, 401);
    });
  });
}
