import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Answer, Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import type { TestServer } from '../helpers/server.js';
import {
  API,
  STEP_MS,
  assertError,
  codeAt,
  codeForStep,
  logTypes,
  nextStep,
  pendingLogin,
  signupWithTwoFactor,
  stepOf,
  twoFactorSuite,
  wrongCode,
} from '../helpers/totp.js';

const COOKIE = 'twofold_session';
const CONCURRENT = 20;

function withToken(server: TestServer, token: string): Client {
  const c = server.client();
  c.cookies.set(COOKIE, token);
  return c;
}

/** Of concurrent answers: exactly one 200, every other one a refusal in JSON. */
function assertExactlyOneSuccess(answers: Answer[], allowed: string[]): void {
  const ok = answers.filter((a) => a.status === 200);
  assert.equal(ok.length, 1, `expected exactly one 200, got: ${answers.map((a) => `${a.status} ${a.json?.error?.code ?? ''}`).join(', ')}`);
  for (const a of answers) {
    if (a.status === 200) continue;
    assert.ok(a.status === 401 || a.status === 429, `${a.status} ${a.text}`);
    assert.ok(allowed.includes(a.json.error.code), a.text);
  }
}

for (const { kind, skip } of databaseKinds()) {
  describe(`login with a second factor (${kind})`, { skip }, () => {
    const clock = manualClock();
    const suite = twoFactorSuite(kind, clock, 'login-2fa@example.com');

    const twoFactor = (c: Client, code: string, extra: Record<string, unknown> = {}) =>
      c.post(`${API}/login/two-factor`, { method: 'totp', code, ...extra });

    test('POST /login answers two_factor_required with the methods, and a pending session cookie', async () => {
      const c = suite.server.client();
      const r = await c.post(`${API}/login`, { email: suite.user.email, password: suite.user.password });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: 'two_factor_required', methods: ['totp', 'recovery_code'] });
      const line = r.headers.getSetCookie().find((l) => l.startsWith(`${COOKIE}=`));
      assert.ok(line, 'a session cookie for the pending login');
      assert.match(line, /HttpOnly/i);
      assert.ok(!r.headers.getSetCookie().some((l) => l.startsWith('twofold_device=')));
    });

    test('a pending login reaches nothing but the second-factor routes (401 unauthenticated)', async () => {
      const c = await pendingLogin(suite.server, suite.user);
      const attempts: [string, () => Promise<Answer>][] = [
        ['GET /me', () => c.get(`${API}/me`)],
        ['GET /me/security-log', () => c.get(`${API}/me/security-log`)],
        ['POST setup', () => c.post(`${API}/me/two-factor/totp/setup`)],
        ['POST confirm', () => c.post(`${API}/me/two-factor/totp/confirm`, { code: '123456' })],
        ['GET recovery codes', () => c.get(`${API}/me/two-factor/recovery-codes`)],
        ['GET recovery codes .txt', () => c.get(`${API}/me/two-factor/recovery-codes.txt`)],
        ['POST recovery codes', () => c.post(`${API}/me/two-factor/recovery-codes`)],
        ['GET trusted devices', () => c.get(`${API}/me/trusted-devices`)],
        ['DELETE trusted device', () => c.delete(`${API}/me/trusted-devices/abc`)],
        ['DELETE two-factor', () => c.delete(`${API}/me/two-factor`, { password: suite.user.password })],
        ['POST reauthenticate', () => c.post(`${API}/me/reauthenticate`, { password: suite.user.password, method: 'totp', code: '123456' })],
        ['POST password', () => c.post(`${API}/me/password`, { currentPassword: suite.user.password, newPassword: 'another good passphrase' })],
      ];
      for (const [what, send] of attempts) assertError(await send(), 401, 'unauthenticated', what);
      assert.equal((await c.get(`${API}/me`)).status, 401);
      // Nothing was changed by those attempts.
      assert.deepEqual((await suite.user.client.get(`${API}/me`)).json.twoFactor, { enabled: true, methods: ['totp', 'recovery_code'], recoveryCodesRemaining: 10 });
      // The pending login itself still works.
      nextStep(clock);
      assert.equal((await twoFactor(c, codeAt(suite.user.secret, clock.now()))).status, 200);
      assert.equal((await c.get(`${API}/me`)).status, 200);
    });

    test('a pending login lives 5 minutes: at 4:59 it completes, at 5:01 → 401 no_pending_login', async () => {
      nextStep(clock);
      const early = await pendingLogin(suite.server, suite.user);
      const late = await pendingLogin(suite.server, suite.user);
      clock.advance(5 * 60_000 - 1000);
      assert.equal((await twoFactor(early, codeAt(suite.user.secret, clock.now()))).status, 200);
      clock.advance(2000);
      nextStep(clock);
      assertError(await twoFactor(late, codeAt(suite.user.secret, clock.now())), 401, 'no_pending_login');
      assert.equal((await late.get(`${API}/me`)).status, 401);
      // The code was not used up by the expired login.
      const fresh = await pendingLogin(suite.server, suite.user);
      assert.equal((await twoFactor(fresh, codeAt(suite.user.secret, clock.now()))).status, 200);
    });

    test('POST /login/two-factor without a pending login → 401 no_pending_login', async () => {
      nextStep(clock);
      const code = codeAt(suite.user.secret, clock.now());
      assertError(await twoFactor(suite.server.client(), code), 401, 'no_pending_login', 'no cookie');
      assertError(await twoFactor(withToken(suite.server, 'A'.repeat(43)), code), 401, 'no_pending_login', 'unknown token');
      assertError(await twoFactor(suite.user.client, code), 401, 'no_pending_login', 'a full session is not a pending login');
      // The code is still good for a real pending login (no attempt was spent).
      const p = await pendingLogin(suite.server, suite.user);
      assert.equal((await twoFactor(p, code)).status, 200);
    });

    test('success issues a new session token; the pending token is dead', async () => {
      const c = await pendingLogin(suite.server, suite.user);
      const pendingToken = c.cookies.get(COOKIE)!;
      nextStep(clock);
      const r = await twoFactor(c, codeAt(suite.user.secret, clock.now()));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: 'ok' });
      const token = c.cookies.get(COOKIE)!;
      assert.notEqual(token, pendingToken);
      assert.equal((await withToken(suite.server, token).get(`${API}/me`)).status, 200);
      assert.equal((await withToken(suite.server, pendingToken).get(`${API}/me`)).status, 401);
      nextStep(clock);
      assertError(await twoFactor(withToken(suite.server, pendingToken), codeAt(suite.user.secret, clock.now())), 401, 'no_pending_login');
      const types = await logTypes(c);
      assert.equal(types[0], 'login');
    });

    test('TOTP window with an injected clock: T−1 and T+1 accepted, T−2 and T+2 refused, replay and older steps refused', async () => {
      nextStep(clock);
      clock.advance(10 * STEP_MS);
      const t = stepOf(clock.now());
      const code = (s: number) => codeForStep(suite.user.secret, s);

      const a = await pendingLogin(suite.server, suite.user);
      assert.equal((await twoFactor(a, code(t - 1))).status, 200, 'T−1 accepted');

      const b = await pendingLogin(suite.server, suite.user);
      assert.equal((await twoFactor(b, code(t + 1))).status, 200, 'T+1 accepted');

      const c = await pendingLogin(suite.server, suite.user);
      assertError(await twoFactor(c, code(t + 1)), 401, 'invalid_code', 'replay of T+1');
      assertError(await twoFactor(c, code(t)), 401, 'invalid_code', 'T after T+1 (an older step)');
      assertError(await twoFactor(c, code(t - 1)), 401, 'invalid_code', 'T−1 after T+1');

      // Four steps later: T'−2 and T'+2 are newer than anything used, but outside the window.
      clock.advance(4 * STEP_MS);
      const t2 = stepOf(clock.now());
      assertError(await twoFactor(c, code(t2 - 2)), 401, 'invalid_code', "T'−2");
      assert.equal((await twoFactor(c, code(t2))).status, 200, "T' accepted (resets the failure count)");

      const d = await pendingLogin(suite.server, suite.user);
      assertError(await twoFactor(d, code(t2 + 2)), 401, 'invalid_code', "T'+2");
      assertError(await twoFactor(d, code(t2)), 401, 'invalid_code', "replay of T'");
      clock.advance(STEP_MS);
      assert.equal((await twoFactor(d, code(t2 + 1))).status, 200);

      // Codes with the spacing apps show are accepted.
      nextStep(clock);
      const e = await pendingLogin(suite.server, suite.user);
      const spaced = codeAt(suite.user.secret, clock.now()).replace(/^(\d{3})(\d{3})$/, '$1 $2');
      assert.equal((await twoFactor(e, spaced)).status, 200);
    });

    test(`${CONCURRENT} concurrent requests with one code over ${CONCURRENT} pending logins → exactly one 200`, async () => {
      const u = await signupWithTwoFactor(suite.server, clock, 'race-sessions@example.com');
      const clients = await Promise.all(Array.from({ length: CONCURRENT }, () => pendingLogin(suite.server, u)));
      nextStep(clock);
      const code = codeAt(u.secret, clock.now());
      const answers = await Promise.all(clients.map((c) => twoFactor(c, code)));
      assertExactlyOneSuccess(answers, ['invalid_code', 'too_many_attempts']);
      const winner = clients[answers.findIndex((a) => a.status === 200)]!;
      assert.equal((await winner.get(`${API}/me`)).status, 200);
      const signedIn = await Promise.all(clients.map(async (c) => (await c.get(`${API}/me`)).status));
      assert.equal(signedIn.filter((s) => s === 200).length, 1);
    });

    test(`${CONCURRENT} concurrent requests with one code on one pending login → exactly one 200`, async () => {
      const u = await signupWithTwoFactor(suite.server, clock, 'race-one-session@example.com');
      const c = await pendingLogin(suite.server, u);
      nextStep(clock);
      const code = codeAt(u.secret, clock.now());
      const answers = await Promise.all(Array.from({ length: CONCURRENT }, () => twoFactor(c, code)));
      assertExactlyOneSuccess(answers, ['invalid_code', 'too_many_attempts', 'no_pending_login']);
    });

    test('a wrong code keeps the login pending; the right one then completes it', async () => {
      nextStep(clock);
      const c = await pendingLogin(suite.server, suite.user);
      assertError(await twoFactor(c, wrongCode(suite.user.secret, clock.now())), 401, 'invalid_code');
      assert.equal((await c.get(`${API}/me`)).status, 401);
      assert.equal((await twoFactor(c, codeAt(suite.user.secret, clock.now()))).status, 200);
      assert.equal((await c.get(`${API}/me`)).status, 200);
    });
  });
}
