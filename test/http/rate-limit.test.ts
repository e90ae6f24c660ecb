import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestServer } from '../helpers/server.js';
import { STRICT } from '../helpers/tools.js';

const REDIS_URL = process.env.TWOFOLD_TEST_REDIS_URL;
const login = { email: 'nobody@example.com', password: 'not the password' };

describe('per-IP rate limit on the password and code endpoints', () => {
  test('past TWOFOLD_AUTH_RATE_LIMIT requests a minute → 429 rate_limited with Retry-After', async () => {
    const server = await startTestServer('sqlite', { env: { TWOFOLD_AUTH_RATE_LIMIT: '3' } });
    try {
      const c = server.client();
      for (let i = 0; i < 3; i++) assert.equal((await c.post('/api/v1/login', login)).status, 401);
      const limited = await c.post('/api/v1/login', login);
      assert.equal(limited.status, 429);
      assert.equal(limited.json.error.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      // Session checks are not rate limited.
      assert.equal((await c.get('/api/v1/me')).status, 401);
    } finally {
      await server.close();
    }
  });

  test('with REDIS_URL, two nodes share one count', { skip: !REDIS_URL && !STRICT ? 'set TWOFOLD_TEST_REDIS_URL (a running Redis server, Debian package redis-server)' : false }, async () => {
    if (!REDIS_URL) throw new Error('TWOFOLD_TEST_REDIS_URL is required under TWOFOLD_TEST_STRICT=1');
    const env = { TWOFOLD_AUTH_RATE_LIMIT: '4', REDIS_URL };
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL);
    // The counts are per IP (127.0.0.1 here); start from none.
    await redis.eval("for _,k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end", 0, 'twofold-rl:*');
    const a = await startTestServer('sqlite', { env });
    const b = await startTestServer('sqlite', { env });
    try {
      const ca = a.client();
      const cb = b.client();
      assert.equal((await ca.post('/api/v1/login', login)).status, 401);
      assert.equal((await cb.post('/api/v1/login', login)).status, 401);
      assert.equal((await ca.post('/api/v1/login', login)).status, 401);
      assert.equal((await cb.post('/api/v1/login', login)).status, 401);
      assert.equal((await ca.post('/api/v1/login', login)).status, 429, 'the fifth request, across both nodes, is over the limit');
    } finally {
      await a.close();
      await b.close();
      await redis.eval("for _,k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end", 0, 'twofold-rl:*');
      redis.disconnect();
    }
  });
});
