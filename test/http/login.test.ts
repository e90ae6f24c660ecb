import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { countRows } from '../helpers/snapshot.js';

const EMAIL = 'ada@example.com';
const PASSWORD = 'correct horse battery';
const COOKIE = 'twofold_session';

/** A client that speaks with one stale token, to prove a server-side session is gone. */
function withToken(server: TestServer, token: string): Client {
  const c = server.client();
  c.cookies.set(COOKIE, token);
  return c;
}

for (const { kind, skip } of databaseKinds()) {
  describe(`login, logout and /me (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind);
      const r = await server.client().post('/api/v1/signup', { email: EMAIL, password: PASSWORD });
      assert.equal(r.status, 201, r.text);
    });
    after(async () => {
      await server?.close();
    });

    test('GET /me without a cookie, with garbage or with an unknown token → 401 unauthenticated', async () => {
      for (const cookie of [undefined, 'garbage', 'A'.repeat(43), '']) {
        const c = server.client();
        if (cookie !== undefined) c.cookies.set(COOKIE, cookie);
        const r = cookie === '' ? await c.get('/api/v1/me', { cookie: `${COOKIE}=` }) : await c.get('/api/v1/me');
        assert.equal(r.status, 401, r.text);
        assert.deepEqual(Object.keys(r.json), ['error']);
        assert.equal(r.json.error.code, 'unauthenticated');
        assert.equal(typeof r.json.error.message, 'string');
      }
      const log = await server.client().get('/api/v1/me/security-log');
      assert.equal(log.status, 401);
      assert.equal(log.json.error.code, 'unauthenticated');
    });

    test('login: 200 {status: "ok"} with a session cookie; the email is case-insensitive and trimmed', async () => {
      for (const email of [EMAIL, ' ADA@Example.COM ']) {
        const c = server.client();
        const r = await c.post('/api/v1/login', { email, password: PASSWORD });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json, { status: 'ok' });
        const line = r.headers.getSetCookie().find((l) => l.startsWith(`${COOKIE}=`));
        assert.ok(line);
        assert.match(line, /HttpOnly/i);
        assert.match(line, /SameSite=Lax/i);
        const me = await c.get('/api/v1/me');
        assert.equal(me.status, 200, me.text);
        assert.equal(me.json.email, EMAIL);
      }
    });

    test('wrong password and unknown email get the same 401 invalid_credentials answer', async () => {
      const sessions = await countRows(server.ctx.db, 'sessions');
      const wrong = await server.client().post('/api/v1/login', { email: EMAIL, password: 'not the password' });
      const unknown = await server.client().post('/api/v1/login', { email: 'nobody@example.com', password: PASSWORD });
      const malformed = await server.client().post('/api/v1/login', { email: 'not an email', password: PASSWORD });
      for (const r of [wrong, unknown, malformed]) {
        assert.equal(r.status, 401, r.text);
        assert.equal(r.json.error.code, 'invalid_credentials');
        assert.equal(r.headers.getSetCookie().length, 0, 'no cookie for a refused login');
      }
      assert.equal(unknown.text, wrong.text);
      assert.equal(malformed.text, wrong.text);
      assert.equal(unknown.headers.get('content-type'), wrong.headers.get('content-type'));
      assert.equal(await countRows(server.ctx.db, 'sessions'), sessions);
    });

    test('unknown email and wrong password both pay for a password hash', async () => {
      // No tight timing assertion (CI machines vary): both paths must run argon2 (tens of ms).
      const mean = async (body: { email: string; password: string }) => {
        const c = server.client();
        let total = 0;
        const n = 3;
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const r = await c.post('/api/v1/login', body);
          total += performance.now() - t;
          assert.equal(r.status, 401);
        }
        return total / n;
      };
      const unknownMs = await mean({ email: 'nobody@example.com', password: 'not the password' });
      const wrongMs = await mean({ email: EMAIL, password: 'not the password' });
      assert.ok(unknownMs >= 5, `unknown email answered in ${unknownMs.toFixed(1)} ms: no decoy hash?`);
      assert.ok(wrongMs >= 5, `wrong password answered in ${wrongMs.toFixed(1)} ms`);
    });

    test('login issues a new token and retires the one the browser had', async () => {
      const c = server.client();
      assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: PASSWORD })).status, 200);
      const first = c.cookies.get(COOKIE)!;
      assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: PASSWORD })).status, 200);
      const second = c.cookies.get(COOKIE)!;
      assert.notEqual(second, first);
      assert.equal((await withToken(server, first).get('/api/v1/me')).status, 401, 'the old token is dead');
      assert.equal((await withToken(server, second).get('/api/v1/me')).status, 200);
    });

    test('a token planted before login never becomes a signed-in one (fixation)', async () => {
      const planted = 'P'.repeat(43);
      const c = withToken(server, planted);
      assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: PASSWORD })).status, 200);
      assert.notEqual(c.cookies.get(COOKIE), planted);
      assert.equal((await withToken(server, planted).get('/api/v1/me')).status, 401);
    });

    test('logout: 204, clears the cookie and deletes the session on the server', async () => {
      const c = server.client();
      assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: PASSWORD })).status, 200);
      const token = c.cookies.get(COOKIE)!;
      const before = await countRows(server.ctx.db, 'sessions');
      const r = await c.post('/api/v1/logout');
      assert.equal(r.status, 204, r.text);
      assert.equal(r.text, '');
      const cleared = r.headers.getSetCookie().find((l) => l.startsWith(`${COOKIE}=`));
      assert.ok(cleared, 'the cookie is cleared');
      assert.match(cleared, /Max-Age=0|Expires=Thu, 01 Jan 1970/i);
      assert.equal(c.cookies.has(COOKIE), false);
      assert.equal(await countRows(server.ctx.db, 'sessions'), before - 1);
      // Replaying the old token (a copied cookie) gets nothing.
      const replay = await withToken(server, token).get('/api/v1/me');
      assert.equal(replay.status, 401);
      assert.equal(replay.json.error.code, 'unauthenticated');
    });

    test('logout without a session is still 204', async () => {
      const r = await server.client().post('/api/v1/logout');
      assert.equal(r.status, 204);
    });
  });
}
