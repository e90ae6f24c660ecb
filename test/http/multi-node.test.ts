import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startAnotherNode, startTestServer, type TestServer } from '../helpers/server.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { API, assertError, codeAt, nextStep, pendingLogin, signupWithTwoFactor, wrongCode, type TwoFactorUser } from '../helpers/totp.js';

/** The same browser talking to another node: it carries its cookies over. */
function onNode(node: TestServer, browser: Client): Client {
  const moved = node.client();
  for (const [name, value] of browser.cookies) moved.cookies.set(name, value);
  return moved;
}

/**
 * SPEC §1: several nodes serve one database, and any node finishes what another began. Two servers
 * here share a database (PostgreSQL, or one SQLite file opened twice) and the secret, and nothing
 * else: a pending login, a used code, a lock and a WebAuthn challenge must cross between them.
 */
for (const { kind, skip } of databaseKinds()) {
  describe(`two nodes over one ${kind} database`, { skip }, () => {
    const clock = manualClock(Date.now());
    let a: TestServer;
    let b: TestServer;
    let user: TwoFactorUser;
    before(async () => {
      a = await startTestServer(kind, { clock });
      b = await startAnotherNode(a, { clock });
      user = await signupWithTwoFactor(a, clock, `nodes-${kind}@example.com`);
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    test('a login begun on one node is finished on the other, and the session works on both', async () => {
      const onA = await pendingLogin(a, user);
      nextStep(clock);
      const onB = onNode(b, onA);
      const done = await onB.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()) });
      assert.equal(done.status, 200, done.text);
      assert.equal((await onNode(a, onB).get(`${API}/me`)).status, 200);
      assert.equal((await onNode(b, onB).post(`${API}/logout`)).status, 204);
      assert.equal((await onNode(a, onB).get(`${API}/me`)).status, 401, 'logged out on B is logged out on A');
    });

    test('a code accepted by one node is a replay on the other', async () => {
      nextStep(clock);
      const code = codeAt(user.secret, clock.now());
      const first = await pendingLogin(a, user);
      const second = await pendingLogin(b, user);
      const [ra, rb] = await Promise.all([
        first.post(`${API}/login/two-factor`, { method: 'totp', code }),
        second.post(`${API}/login/two-factor`, { method: 'totp', code }),
      ]);
      assert.deepEqual([ra.status, rb.status].sort(), [200, 401], `${ra.text} ${rb.text}`);
    });

    test('a recovery code used on one node is dead on the other', async () => {
      const code = user.recoveryCodes.pop()!;
      assert.equal((await (await pendingLogin(a, user)).post(`${API}/login/two-factor`, { method: 'recovery_code', code })).status, 200);
      assertError(await (await pendingLogin(b, user)).post(`${API}/login/two-factor`, { method: 'recovery_code', code }), 401, 'invalid_code');
    });

    test('failures on both nodes add up to one lock', async () => {
      // Start from no failures: a success resets the count (earlier tests left one).
      nextStep(clock);
      assert.equal((await (await pendingLogin(b, user)).post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()) })).status, 200);
      nextStep(clock);
      const onA = await pendingLogin(a, user);
      const onB = await pendingLogin(b, user);
      for (let i = 0; i < 5; i++) {
        const client = i % 2 === 0 ? onA : onB;
        assertError(await client.post(`${API}/login/two-factor`, { method: 'totp', code: wrongCode(user.secret, clock.now(), i) }), 401, 'invalid_code');
      }
      const locked = await onA.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()) });
      assertError(locked, 429, 'too_many_attempts', 'even a correct code, on the node that saw only 3 failures');
      assert.equal(locked.headers.get('retry-after'), '60');
      clock.advance(61_000);
      nextStep(clock);
      assert.equal((await onB.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()) })).status, 200);
    });

    test('a security key challenge issued by one node is answered on the other', async () => {
      const owner = await signupWithTwoFactor(a, clock, `nodes-key-${kind}@example.com`);
      const key = new SoftAuthenticator(a.config.publicOrigin, true);
      const options = await owner.client.post(`${API}/me/security-keys/options`);
      assert.equal(options.status, 200, options.text);
      const added = await onNode(b, owner.client).post(`${API}/me/security-keys`, { name: 'Key', response: key.create(options.json) });
      assert.equal(added.status, 201, added.text);

      const pendingOnB = await pendingLogin(b, owner);
      const request = await pendingOnB.post(`${API}/login/two-factor/webauthn/options`);
      assert.equal(request.status, 200, request.text);
      const answer = key.get(request.json);
      const done = await onNode(a, pendingOnB).post(`${API}/login/two-factor`, { method: 'webauthn', response: answer });
      assert.equal(done.status, 200, done.text);
      // The challenge was used up on A: answering it again on B fails.
      const again = await onNode(b, pendingOnB).post(`${API}/login/two-factor`, { method: 'webauthn', response: answer });
      assert.equal(again.status, 401);
    });
  });
}
