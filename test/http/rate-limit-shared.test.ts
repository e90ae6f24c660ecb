import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '../helpers/client.js';
import { freePort } from '../helpers/ports.js';
import { startTestServer } from '../helpers/server.js';

const login = { email: 'nobody@example.com', password: 'not the password' };
const pageLogin = (c: Client) =>
  c.post('/login', new URLSearchParams({ email: login.email, password: login.password }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });

describe('one per-IP bucket for every password and code route', () => {
  test('the API login, the page login and the second-factor route draw on one count', async () => {
    const server = await startTestServer('sqlite', { env: { TWOFOLD_AUTH_RATE_LIMIT: '3' } });
    try {
      const c = server.client();
      assert.equal((await c.post('/api/v1/login', login)).status, 401);
      // Refused for other reasons (no CSRF token, no pending login), but each one counts.
      assert.notEqual((await pageLogin(c)).status, 429);
      assert.notEqual((await c.post('/api/v1/login/two-factor', { method: 'totp', code: '123456' })).status, 429);
      const limited = await c.post('/api/v1/login', login);
      assert.equal(limited.status, 429, 'the fourth request over three routes is over the limit');
      assert.equal(limited.json.error.code, 'rate_limited');
      assert.equal((await pageLogin(c)).status, 429);
    } finally {
      await server.close();
    }
  });

  test('with Redis unreachable, each node still limits on its own (never no limit)', async () => {
    const closed = await freePort();
    const server = await startTestServer('sqlite', { env: { TWOFOLD_AUTH_RATE_LIMIT: '3', REDIS_URL: `redis://127.0.0.1:${closed}` } });
    try {
      const c = server.client();
      for (let i = 0; i < 3; i++) assert.equal((await c.post('/api/v1/login', login)).status, 401);
      const limited = await c.post('/api/v1/login', login);
      assert.equal(limited.status, 429);
      assert.equal(limited.json.error.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
    } finally {
      await server.close();
    }
  });
});
