import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, assertError, enableTwoFactor, nextStep, PASSWORD, userIdOf } from '../helpers/totp.js';

const DAY = 86_400_000;

for (const { kind, skip } of databaseKinds()) {
  describe(`TWOFOLD_REQUIRE_2FA=all with a 7-day grace (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock, env: { TWOFOLD_REQUIRE_2FA: 'all', TWOFOLD_SESSION_IDLE: '30d', TWOFOLD_SESSION_MAX: '30d' } });
    });
    after(async () => {
      await server?.close();
    });

    async function signup(email: string) {
      const c = server.client();
      const r = await c.post(`${API}/signup`, { email, password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      return c;
    }

    test('during the grace period everything works; the moment the rule first applied is stored once', async () => {
      const c = await signup('grace@example.com');
      assert.equal((await c.get(`${API}/me/security-log`)).status, 200);
      const id = await userIdOf(server, 'grace@example.com');
      const since = (await server.ctx.db.selectFrom('users').select('two_factor_required_since').where('id', '=', id).executeTakeFirstOrThrow()).two_factor_required_since;
      assert.equal(since, clock.now());
      clock.advance(DAY);
      assert.equal((await c.get(`${API}/me/sessions`)).status, 200);
      const again = (await server.ctx.db.selectFrom('users').select('two_factor_required_since').where('id', '=', id).executeTakeFirstOrThrow()).two_factor_required_since;
      assert.equal(again, since, 'not moved by later requests');
    });

    test('after it: 403 two_factor_setup_required except /me, setup and logout; setting up 2FA lifts it', async () => {
      const c = await signup('late@example.com');
      clock.advance(7 * DAY);
      for (const [method, path] of [
        ['GET', '/me/security-log'],
        ['GET', '/me/sessions'],
        ['POST', '/me/sessions/revoke-others'],
        ['GET', '/me/trusted-devices'],
      ] as const) {
        assertError(await c.request(method, `${API}${path}`), 403, 'two_factor_setup_required', `${method} ${path}`);
      }
      assert.equal((await c.get(`${API}/me`)).status, 200);
      // The session is no longer fresh: setup needs the password again, which is allowed too.
      assert.equal((await c.post(`${API}/me/reauthenticate`, { password: PASSWORD })).status, 204);
      nextStep(clock);
      await enableTwoFactor(c, clock);
      assert.equal((await c.get(`${API}/me/security-log`)).status, 200, 'reachable again with 2FA on');
      assert.equal((await c.post(`${API}/logout`)).status, 204);
    });

    test('removing the last factor is refused with 409 two_factor_required (disable and the last key)', async () => {
      const c = await signup('keep@example.com');
      await enableTwoFactor(c, clock);
      assertError(await c.delete(`${API}/me/two-factor`, { password: PASSWORD }), 409, 'two_factor_required');
      assert.equal((await c.get(`${API}/me`)).json.twoFactor.enabled, true);
    });
  });

  describe(`TWOFOLD_REQUIRE_2FA_GRACE=0: no grace (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { env: { TWOFOLD_REQUIRE_2FA: 'all', TWOFOLD_REQUIRE_2FA_GRACE: '0' } });
    });
    after(async () => {
      await server?.close();
    });

    test('a new account reaches only /me, setup and logout at once', async () => {
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'now@example.com', password: PASSWORD })).status, 201);
      assertError(await c.get(`${API}/me/sessions`), 403, 'two_factor_setup_required');
      assert.equal((await c.get(`${API}/me`)).status, 200);
      assert.equal((await c.post(`${API}/me/two-factor/totp/setup`)).status, 200);
    });
  });
}

for (const { kind, skip } of databaseKinds()) {
  describe(`TWOFOLD_REQUIRE_2FA=group:staff (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock, env: { TWOFOLD_REQUIRE_2FA: 'group:staff', TWOFOLD_REQUIRE_2FA_GRACE: '2h', TWOFOLD_SESSION_IDLE: '1d' } });
    });
    after(async () => {
      await server?.close();
    });

    test('only members of the group are asked; the grace counts from when the account joined it', async () => {
      const member = server.client();
      assert.equal((await member.post(`${API}/signup`, { email: 'staff@example.com', password: PASSWORD })).status, 201);
      const other = server.client();
      assert.equal((await other.post(`${API}/signup`, { email: 'guest@example.com', password: PASSWORD })).status, 201);
      clock.advance(3 * 60 * 60_000);
      assert.equal((await member.get(`${API}/me/sessions`)).status, 200, 'not in the group yet: nothing asked');
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      await (server.ctx.db as any).insertInto('user_groups').values({ user_id: await userIdOf(server, 'staff@example.com'), name: 'staff', created_at: clock.now() }).execute();
      assert.equal((await member.get(`${API}/me/sessions`)).status, 200, 'the grace period starts now');
      clock.advance(2 * 60 * 60_000);
      assertError(await member.get(`${API}/me/sessions`), 403, 'two_factor_setup_required');
      assert.equal((await other.get(`${API}/me/sessions`)).status, 200, 'a non-member is never asked');
    });
  });
}
