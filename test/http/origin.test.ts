import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { countRows } from '../helpers/snapshot.js';

const PUBLIC_URL = 'http://twofold.test:3000';
const PASSWORD = 'correct horse battery';

for (const { kind, skip } of databaseKinds()) {
  describe(`Origin check on state-changing requests (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { env: { PUBLIC_URL } });
    });
    after(async () => {
      await server?.close();
    });

    test('a POST from another origin → 403 cross_origin_request, nothing created', async () => {
      for (const origin of ['http://evil.example', 'http://twofold.test:3001', 'https://twofold.test:3000', 'http://twofold.test', 'null', 'http://sub.twofold.test:3000']) {
        const c = server.client({ origin });
        const r = await c.post('/api/v1/signup', { email: 'cross@example.com', password: PASSWORD });
        assert.equal(r.status, 403, `${origin}: ${r.text}`);
        assert.deepEqual(r.json, { error: { code: 'cross_origin_request', message: r.json.error.message } });
        assert.equal(c.cookies.size, 0);
      }
      assert.equal(await countRows(server.ctx.db, 'users'), 0);
    });

    test('the same origin and no Origin header are allowed', async () => {
      const same = server.client({ origin: PUBLIC_URL });
      assert.equal((await same.post('/api/v1/signup', { email: 'same@example.com', password: PASSWORD })).status, 201);
      const none = server.client();
      assert.equal((await none.post('/api/v1/login', { email: 'same@example.com', password: PASSWORD })).status, 200);
    });

    test('a cross-origin logout cannot end the session', async () => {
      const c = server.client();
      assert.equal((await c.post('/api/v1/login', { email: 'same@example.com', password: PASSWORD })).status, 200);
      const r = await c.post('/api/v1/logout', undefined, { origin: 'http://evil.example' });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, 'cross_origin_request');
      assert.equal((await c.get('/api/v1/me')).status, 200);
      assert.equal((await c.post('/api/v1/logout', undefined, { origin: PUBLIC_URL })).status, 204);
      assert.equal((await c.get('/api/v1/me')).status, 401);
    });

    test('a GET with a foreign Origin is allowed', async () => {
      const c = server.client();
      assert.equal((await c.post('/api/v1/login', { email: 'same@example.com', password: PASSWORD })).status, 200);
      const me = await c.get('/api/v1/me', { origin: 'http://evil.example' });
      assert.equal(me.status, 200, me.text);
      assert.equal((await server.client().get('/healthz', { origin: 'http://evil.example' })).status, 200);
    });
  });
}
