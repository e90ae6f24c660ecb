import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashLimiter } from '../../src/core/password.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, PASSWORD } from '../helpers/totp.js';

/*
 * TWOFOLD_HASH_CONCURRENCY caps the argon2 computations running at once in a process, so a burst of
 * logins leaves the event loop a core. A burst of logins and signups wants many more; no more than
 * the cap ever run, and every request still gets its answer.
 */
describe('password hashing under a concurrency cap', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { env: { TWOFOLD_HASH_CONCURRENCY: '2' } });
  });
  after(async () => {
    await server?.close();
  });

  test('a burst of 12 logins and signups: at most 2 hashes at once, all answered', async () => {
    assert.equal(hashLimiter().limit, 2);
    const email = 'burst@example.com';
    assert.equal((await server.client().post(`${API}/signup`, { email, password: PASSWORD })).status, 201);
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => server.client().post(`${API}/login`, { email, password: PASSWORD })),
      ...Array.from({ length: 3 }, () => server.client().post(`${API}/login`, { email, password: 'a wrong password here' })),
      ...Array.from({ length: 3 }, (_, i) => server.client().post(`${API}/signup`, { email: `burst-${i}@example.com`, password: PASSWORD })),
    ]);
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 200, 200, 200, 200, 401, 401, 401, 201, 201, 201],
    );
    assert.equal(hashLimiter().peak, 2, 'the cap was reached and never passed');
    assert.equal(hashLimiter().active, 0);
  });

  test('the variable is checked at start', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const env = { TWOFOLD_SECRET: Buffer.alloc(32, 1).toString('base64') };
    assert.throws(() => loadConfig({ ...env, TWOFOLD_HASH_CONCURRENCY: '0' }), /TWOFOLD_HASH_CONCURRENCY/);
    assert.throws(() => loadConfig({ ...env, TWOFOLD_HASH_CONCURRENCY: 'many' }), /TWOFOLD_HASH_CONCURRENCY/);
    assert.ok(loadConfig(env).hashConcurrency >= 1);
  });
});
