import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { hashToken } from '../../src/core/token.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'correct horse battery';
const MIN = 60_000;
const HOUR = 60 * MIN;

for (const { kind, skip } of databaseKinds()) {
  describe(`session lifetimes, default 1 h idle and 24 h in all (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock });
      const r = await server.client().post('/api/v1/signup', { email: 'life@example.com', password: PASSWORD });
      assert.equal(r.status, 201, r.text);
    });
    after(async () => {
      await server?.close();
    });

    async function login() {
      const c = server.client();
      const r = await c.post('/api/v1/login', { email: 'life@example.com', password: PASSWORD });
      assert.equal(r.status, 200, r.text);
      return c;
    }

    test('the cookie lasts as long as the absolute lifetime', async () => {
      const c = server.client();
      const r = await c.post('/api/v1/login', { email: 'life@example.com', password: PASSWORD });
      assert.match(r.headers.getSetCookie().join('\n'), /twofold_session=[^;]+;.*Max-Age=86400/i);
    });

    test('idle expiry: a session unused for 1 h is dead, and deleted on the server', async () => {
      const c = await login();
      const id = hashToken(c.cookies.get('twofold_session')!);
      clock.advance(HOUR - 1000);
      assert.equal((await c.get('/api/v1/me')).status, 200, 'alive just under 1 h idle');
      clock.advance(HOUR - 1000);
      assert.equal((await c.get('/api/v1/me')).status, 200, 'the previous request reset the idle timer');
      clock.advance(HOUR);
      const r = await c.get('/api/v1/me');
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'unauthenticated');
      const row = await server.ctx.db.selectFrom('sessions').select('id').where('id', '=', id).executeTakeFirst();
      assert.equal(row, undefined, 'the expired session row is gone');
    });

    test('absolute expiry: used every 50 minutes, the session still ends 24 h after login', async () => {
      const c = await login();
      const start = clock.now();
      while (clock.now() + 50 * MIN < start + 24 * HOUR) {
        clock.advance(50 * MIN);
        const r = await c.get('/api/v1/me');
        assert.equal(r.status, 200, `at ${(clock.now() - start) / HOUR} h`);
      }
      clock.set(start + 24 * HOUR - 1);
      assert.equal((await c.get('/api/v1/me')).status, 200, 'alive 1 ms before 24 h');
      clock.set(start + 24 * HOUR);
      assert.equal((await c.get('/api/v1/me')).status, 401, 'dead at 24 h');
    });

    test('logout with an expired session still answers 204 and signs nobody in', async () => {
      const c = await login();
      clock.advance(2 * HOUR);
      assert.equal((await c.post('/api/v1/logout')).status, 204);
      assert.equal((await c.get('/api/v1/me')).status, 401);
    });
  });

  describe(`session lifetimes are configurable (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock, env: { TWOFOLD_SESSION_IDLE: '10m', TWOFOLD_SESSION_MAX: '30m' } });
    });
    after(async () => {
      await server?.close();
    });

    test('TWOFOLD_SESSION_IDLE=10m and TWOFOLD_SESSION_MAX=30m', async () => {
      const c = server.client();
      const r = await c.post('/api/v1/signup', { email: 'short@example.com', password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      assert.match(r.headers.getSetCookie().join('\n'), /Max-Age=1800/i);
      clock.advance(9 * MIN);
      assert.equal((await c.get('/api/v1/me')).status, 200);
      clock.advance(9 * MIN);
      assert.equal((await c.get('/api/v1/me')).status, 200);
      clock.advance(10 * MIN);
      assert.equal((await c.get('/api/v1/me')).status, 401, 'idle for 10 minutes');

      assert.equal((await c.post('/api/v1/login', { email: 'short@example.com', password: PASSWORD })).status, 200);
      for (let i = 0; i < 3; i++) {
        clock.advance(9 * MIN);
        assert.equal((await c.get('/api/v1/me')).status, 200, `after ${(i + 1) * 9} min`);
      }
      clock.advance(3 * MIN);
      assert.equal((await c.get('/api/v1/me')).status, 401, '30 minutes in all');
    });
  });

  describe(`cookies under an https PUBLIC_URL (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { env: { PUBLIC_URL: 'https://login.example.com' } });
    });
    after(async () => {
      await server?.close();
    });

    test('__Host- prefix, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain', async () => {
      const c = server.client();
      const r = await c.post('/api/v1/signup', { email: 'secure@example.com', password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      const lines = r.headers.getSetCookie();
      assert.equal(lines.some((l) => l.startsWith('twofold_session=')), false, 'no unprefixed cookie');
      const line = lines.find((l) => l.startsWith('__Host-twofold_session='));
      assert.ok(line, JSON.stringify(lines));
      assert.match(line, /;\s*Secure/i);
      assert.match(line, /;\s*HttpOnly/i);
      assert.match(line, /;\s*SameSite=Lax/i);
      assert.match(line, /;\s*Path=\/(;|$)/i);
      assert.doesNotMatch(line, /Domain=/i);
      // The prefixed cookie is the one the server reads.
      assert.equal((await c.get('/api/v1/me')).status, 200);
      const logout = await c.post('/api/v1/logout');
      assert.equal(logout.status, 204);
      const cleared = logout.headers.getSetCookie().find((l) => l.startsWith('__Host-twofold_session='));
      assert.ok(cleared);
      assert.match(cleared, /;\s*Secure/i);
    });

    test('HSTS is sent under https', async () => {
      const r = await server.client().get('/healthz');
      assert.match(r.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    });
  });
}
