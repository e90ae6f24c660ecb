import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { hashToken } from '../../src/core/token.js';
import type { Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, codeAt, nextStep, PASSWORD, pendingLogin, signupWithTwoFactor, totpLogin, type TwoFactorUser } from '../helpers/totp.js';

const COOKIE = 'twofold_session';

/** The amr column of the client's current session, straight from the database. */
async function amrOf(server: TestServer, client: Client): Promise<string> {
  const token = client.cookies.get(COOKIE);
  assert.ok(token, 'no session cookie');
  const r = await server.ctx.db.selectFrom('sessions').select('amr').where('id', '=', hashToken(token)).executeTakeFirstOrThrow();
  return r.amr;
}

for (const { kind, skip } of databaseKinds()) {
  describe(`sessions record what the login proved (${kind})`, { skip }, () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    let server: TestServer;
    let user: TwoFactorUser;
    before(async () => {
      server = await startTestServer(kind, { clock });
      user = await signupWithTwoFactor(server, clock, 'amr@example.com');
    });
    after(async () => {
      await server?.close();
    });

    test('a password-only account: pwd', async () => {
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'amr-pwd@example.com', password: PASSWORD })).status, 201);
      assert.equal(await amrOf(server, c), 'pwd');
      const d = server.client();
      assert.equal((await d.post(`${API}/login`, { email: 'amr-pwd@example.com', password: PASSWORD })).status, 200);
      assert.equal(await amrOf(server, d), 'pwd');
    });

    test('a pending login has proved the password only', async () => {
      const c = await pendingLogin(server, user);
      assert.equal(await amrOf(server, c), 'pwd');
    });

    test('password and app code: pwd otp mfa', async () => {
      const { client } = await totpLogin(server, clock, user);
      assert.equal(await amrOf(server, client), 'pwd otp mfa');
    });

    test('password and recovery code: pwd otp mfa', async () => {
      const c = await pendingLogin(server, user);
      const r = await c.post(`${API}/login/two-factor`, { method: 'recovery_code', code: user.recoveryCodes[0] });
      assert.equal(r.status, 200, r.text);
      assert.equal(await amrOf(server, c), 'pwd otp mfa');
    });

    test('a trusted-device login skipped the second factor: pwd only', async () => {
      const { client } = await totpLogin(server, clock, user, { trustDevice: true });
      const again = server.client();
      for (const [k, v] of client.cookies) if (k !== COOKIE) again.cookies.set(k, v);
      const r = await again.post(`${API}/login`, { email: user.email, password: user.password });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: 'ok' });
      assert.equal(await amrOf(server, again), 'pwd');
      // Re-authentication with both factors proves them for this session.
      nextStep(clock);
      const re = await again.post(`${API}/me/reauthenticate`, { password: user.password, method: 'totp', code: codeAt(user.secret, clock.now()) });
      assert.equal(re.status, 204, re.text);
      assert.equal(await amrOf(server, again), 'pwd otp mfa');
    });
  });
}
