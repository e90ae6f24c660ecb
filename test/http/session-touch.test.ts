import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { startTestServer } from '../helpers/server.js';
import { API, PASSWORD } from '../helpers/totp.js';

describe('an idle limit under a minute', () => {
  test('TWOFOLD_SESSION_IDLE=20s: a person active every 10 s stays signed in; 20 s idle ends it', async () => {
    const clock = manualClock();
    const server = await startTestServer('sqlite', { clock, env: { TWOFOLD_SESSION_IDLE: '20s', TWOFOLD_SESSION_MAX: '1h' } });
    try {
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'busy@example.com', password: PASSWORD })).status, 201);
      for (let i = 0; i < 12; i++) {
        clock.advance(10_000);
        assert.equal((await c.get(`${API}/me`)).status, 200, `active, ${(i + 1) * 10} s after login`);
      }
      clock.advance(20_000);
      assert.equal((await c.get(`${API}/me`)).status, 401, 'idle for 20 s');
    } finally {
      await server.close();
    }
  });
});
