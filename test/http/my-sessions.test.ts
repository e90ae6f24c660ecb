import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { CLI_ACTOR, lockAccount, unlockAccount } from '../../src/service/admin/actions.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotTables } from '../helpers/snapshot.js';
import { API, assertError, logTypes, PASSWORD, userIdOf } from '../helpers/totp.js';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const MIN = 60_000;

for (const { kind, skip } of databaseKinds()) {
  describe(`my sessions, account deletion and locks (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock });
    });
    after(async () => {
      await server?.close();
    });

    async function signup(email: string, ua = FIREFOX) {
      const c = server.client({ 'user-agent': ua });
      const r = await c.post(`${API}/signup`, { email, password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      return c;
    }
    async function login(email: string, ua: string) {
      const c = server.client({ 'user-agent': ua });
      const r = await c.post(`${API}/login`, { email, password: PASSWORD });
      assert.equal(r.status, 200, r.text);
      return c;
    }

    test('GET /me/sessions lists each signed-in session with browser and system, this one first', async () => {
      const first = await signup('list@example.com', FIREFOX);
      clock.advance(MIN);
      const second = await login('list@example.com', SAFARI);
      const r = await second.get(`${API}/me/sessions`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.length, 2);
      const [mine, other] = r.json;
      assert.deepEqual(Object.keys(mine).sort(), ['browser', 'createdAt', 'current', 'id', 'ip', 'lastSeenAt', 'os', 'userAgent']);
      assert.equal(mine.current, true);
      assert.equal(mine.browser, 'Safari 17');
      assert.equal(mine.os, 'iOS 17.4');
      assert.equal(mine.ip, '127.0.0.1');
      assert.equal(other.current, false);
      assert.equal(other.browser, 'Firefox 133');
      assert.equal(other.os, 'Windows');
      assert.equal(other.userAgent, FIREFOX);
      assert.ok(Date.parse(other.createdAt) < Date.parse(mine.createdAt));
      // The id is not the stored key of the session (the hash the lookup uses).
      const stored = await server.ctx.db.selectFrom('sessions').select('id').execute();
      for (const s of r.json) assert.ok(!stored.some((row) => row.id === s.id));
      assert.equal((await first.get(`${API}/me/sessions`)).json[0].current, true);
    });

    test('DELETE /me/sessions/:id ends that session; another account’s session or an unknown id is 404', async () => {
      const a1 = await signup('owner@example.com', FIREFOX);
      const a2 = await login('owner@example.com', SAFARI);
      const b = await signup('stranger@example.com');
      const bSessions = (await b.get(`${API}/me/sessions`)).json;
      assertError(await a1.delete(`${API}/me/sessions/${bSessions[0].id}`), 404, 'not_found', 'another account’s session');
      assertError(await a1.delete(`${API}/me/sessions/nope`), 404, 'not_found');
      assert.equal((await b.get(`${API}/me`)).status, 200, 'the stranger is still signed in');

      const other = (await a1.get(`${API}/me/sessions`)).json.find((s: { current: boolean }) => !s.current);
      assert.equal((await a1.delete(`${API}/me/sessions/${other.id}`)).status, 204);
      assertError(await a2.get(`${API}/me`), 401, 'unauthenticated');
      assert.equal((await a1.get(`${API}/me`)).status, 200);
      assertError(await a1.delete(`${API}/me/sessions/${other.id}`), 404, 'not_found', 'already ended');
      assert.ok((await logTypes(a1)).includes('session_revoked'));
    });

    test('POST /me/sessions/revoke-others ends every other session and keeps this one', async () => {
      const keep = await signup('others@example.com');
      const others = [await login('others@example.com', SAFARI), await login('others@example.com', FIREFOX)];
      assert.equal((await keep.post(`${API}/me/sessions/revoke-others`)).status, 204);
      for (const o of others) assertError(await o.get(`${API}/me`), 401, 'unauthenticated');
      const left = (await keep.get(`${API}/me/sessions`)).json;
      assert.equal(left.length, 1);
      assert.equal(left[0].current, true);
      assert.ok((await logTypes(keep)).includes('other_sessions_revoked'));
    });

    test('DELETE /me needs a fresh session and the password, then removes everything of the account', async () => {
      const c = await signup('gone@example.com');
      const bystander = await signup('stays@example.com');
      const userId = await userIdOf(server, 'gone@example.com');
      assertError(await c.delete(`${API}/me`, { password: 'wrong password here' }), 401, 'invalid_credentials');
      assertError(await c.delete(`${API}/me`, {}), 400, 'invalid_request');
      clock.advance(11 * MIN);
      assertError(await c.delete(`${API}/me`, { password: PASSWORD }), 403, 'reauthentication_required');
      assert.equal((await c.post(`${API}/me/reauthenticate`, { password: PASSWORD })).status, 204);
      const r = await c.delete(`${API}/me`, { password: PASSWORD });
      assert.equal(r.status, 204, r.text);
      assertError(await c.get(`${API}/me`), 401, 'unauthenticated');
      const snapshot = await snapshotTables(server.ctx.db);
      for (const [table, rows] of Object.entries(snapshot)) {
        assert.ok(!rows.some((row) => row.includes(userId) || row.includes('gone@example.com')), `${table} still has the account`);
      }
      assertError(await server.client().post(`${API}/login`, { email: 'gone@example.com', password: PASSWORD }), 401, 'invalid_credentials');
      assert.equal((await bystander.get(`${API}/me`)).status, 200);
    });

    test('a locked account: 403 account_locked only after the password verified; its sessions ended; unlock lets it in', async () => {
      const c = await signup('locked@example.com');
      const userId = await userIdOf(server, 'locked@example.com');
      await lockAccount(server.ctx, CLI_ACTOR, userId);
      assertError(await c.get(`${API}/me`), 401, 'unauthenticated', 'the session ended with the lock');
      assertError(await server.client().post(`${API}/login`, { email: 'locked@example.com', password: 'not the password' }), 401, 'invalid_credentials');
      assertError(await server.client().post(`${API}/login`, { email: 'locked@example.com', password: PASSWORD }), 403, 'account_locked');
      await unlockAccount(server.ctx, CLI_ACTOR, userId);
      const again = await login('locked@example.com', FIREFOX);
      const types = await logTypes(again);
      for (const t of ['account_locked', 'login_refused_locked', 'account_unlocked']) assert.ok(types.includes(t), t);
    });
  });
}
