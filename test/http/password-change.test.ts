import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const API = '/api/v1';
const EMAIL = 'changer@example.com';
const OLD = 'correct horse battery';
const NEW = 'a brand new passphrase';

for (const { kind, skip } of databaseKinds()) {
  describe(`POST /me/password (${kind})`, { skip }, () => {
    const clock = manualClock(Date.now());
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock });
    });
    after(async () => {
      await server?.close();
    });

    test('needs the current password and a good new one; then only the new one works and other sessions end', async () => {
      const me = server.client();
      assert.equal((await me.post(`${API}/signup`, { email: EMAIL, password: OLD })).status, 201);
      const elsewhere = server.client();
      assert.equal((await elsewhere.post(`${API}/login`, { email: EMAIL, password: OLD })).status, 200);

      const wrong = await me.post(`${API}/me/password`, { currentPassword: 'not my password', newPassword: NEW });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.error.code, 'invalid_credentials');
      const common = await me.post(`${API}/me/password`, { currentPassword: OLD, newPassword: 'baseball' });
      assert.equal(common.status, 400);
      assert.equal(common.json.error.code, 'password_too_common');
      assert.equal((await elsewhere.get(`${API}/me`)).status, 200, 'refusals changed nothing');

      assert.equal((await me.post(`${API}/me/password`, { currentPassword: OLD, newPassword: NEW })).status, 204);
      assert.equal((await me.get(`${API}/me`)).status, 200, 'the session that changed it stays');
      assert.equal((await elsewhere.get(`${API}/me`)).status, 401, 'every other session ended');
      assert.equal((await server.client().post(`${API}/login`, { email: EMAIL, password: OLD })).status, 401);
      assert.equal((await server.client().post(`${API}/login`, { email: EMAIL, password: NEW })).status, 200);
      const types = ((await me.get(`${API}/me/security-log`)).json as { type: string }[]).map((e) => e.type);
      assert.ok(types.includes('password_changed'));
      assert.ok(types.includes('login_failed'), 'the wrong current password is logged');
    });

    test('needs a fresh authentication', async () => {
      const c = server.client();
      assert.equal((await c.post(`${API}/login`, { email: EMAIL, password: NEW })).status, 200);
      clock.advance(10 * 60_000 + 1);
      const r = await c.post(`${API}/me/password`, { currentPassword: NEW, newPassword: 'yet another passphrase' });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, 'reauthentication_required');
    });
  });
}
