import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { countRows } from '../helpers/snapshot.js';

const PASSWORD = 'correct horse battery';

function sessionCookie(setCookie: string[]): string {
  const line = setCookie.find((l) => l.startsWith('twofold_session='));
  assert.ok(line, `no session cookie in ${JSON.stringify(setCookie)}`);
  return line;
}

for (const { kind, skip } of databaseKinds()) {
  describe(`POST /api/v1/signup (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind);
    });
    after(async () => {
      await server?.close();
    });

    test('201 with the user, signed in by an HttpOnly SameSite=Lax cookie; email trimmed', async () => {
      const c = server.client();
      const r = await c.post('/api/v1/signup', { email: '  Grace.Hopper@Example.com\t', password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(Object.keys(r.json), ['user']);
      assert.equal(r.json.user.email, 'Grace.Hopper@Example.com');
      assert.equal(typeof r.json.user.id, 'string');
      assert.ok(!r.text.includes('password'), 'no password hash in the answer');

      const cookie = sessionCookie(r.headers.getSetCookie());
      assert.match(cookie, /;\s*HttpOnly/i);
      assert.match(cookie, /;\s*SameSite=Lax/i);
      assert.match(cookie, /;\s*Path=\//i);
      assert.doesNotMatch(cookie, /;\s*Secure/i, 'no Secure under http');
      assert.doesNotMatch(cookie, /;\s*Domain=/i);
      assert.match(cookie, /^twofold_session=[A-Za-z0-9_-]{43};/);

      const me = await c.get('/api/v1/me');
      assert.equal(me.status, 200, me.text);
      assert.equal(me.json.id, r.json.user.id);
      assert.equal(me.json.email, 'Grace.Hopper@Example.com');
      assert.deepEqual(me.json.twoFactor, { enabled: false, methods: [], recoveryCodesRemaining: 0 });

      // The stored session id is the token's hash, never the token.
      const token = c.cookies.get('twofold_session')!;
      const rows = await server.ctx.db.selectFrom('sessions').select('id').execute();
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((s) => s.id !== token));
    });

    test('the same email in another case or with spaces is taken: 409 email_taken, nothing added', async () => {
      const users = await countRows(server.ctx.db, 'users');
      const sessions = await countRows(server.ctx.db, 'sessions');
      for (const email of ['grace.hopper@example.com', 'GRACE.HOPPER@EXAMPLE.COM', ' Grace.Hopper@example.COM ']) {
        const c = server.client();
        const r = await c.post('/api/v1/signup', { email, password: 'another good passphrase' });
        assert.equal(r.status, 409, r.text);
        assert.equal(r.json.error.code, 'email_taken');
        assert.equal(typeof r.json.error.message, 'string');
        assert.equal(c.cookies.size, 0, 'no session for a refused signup');
      }
      assert.equal(await countRows(server.ctx.db, 'users'), users);
      assert.equal(await countRows(server.ctx.db, 'sessions'), sessions);
    });

    test('simultaneous signups with one email: exactly one wins', async () => {
      const answers = await Promise.all(
        ['race@example.com', 'RACE@example.com', 'Race@Example.com'].map((email) => server.client().post('/api/v1/signup', { email, password: PASSWORD })),
      );
      assert.deepEqual(answers.map((r) => r.status).sort(), [201, 409, 409]);
      for (const r of answers.filter((a) => a.status === 409)) assert.equal(r.json.error.code, 'email_taken');
    });

    test('password policy: too short, too long, too common → 400 with clear codes', async () => {
      const users = await countRows(server.ctx.db, 'users');
      const cases: [string, string, RegExp][] = [
        ['', 'password_too_short', /at least 8/],
        ['k7#Qz!p', 'password_too_short', /at least 8/],
        ['x'.repeat(257), 'password_too_long', /at most 256/],
        ['password', 'password_too_common', /common/i],
        ['PassWord', 'password_too_common', /common/i],
        ['12345678', 'password_too_common', /common/i],
        ['Iloveyou', 'password_too_common', /common/i],
      ];
      for (const [password, code, message] of cases) {
        const r = await server.client().post('/api/v1/signup', { email: 'policy@example.com', password });
        assert.equal(r.status, 400, `${password.slice(0, 20)}: ${r.text}`);
        assert.equal(r.json.error.code, code, password.slice(0, 20));
        assert.match(r.json.error.message, message);
      }
      assert.equal(await countRows(server.ctx.db, 'users'), users);
    });

    test('passwords are counted in characters: 8 emoji are enough, 256 are not too many', async () => {
      const a = await server.client().post('/api/v1/signup', { email: 'emoji8@example.com', password: '🔑🔒🚪🏠🌙🐢🦊🐝' });
      assert.equal(a.status, 201, a.text);
      const b = await server.client().post('/api/v1/signup', { email: 'emoji257@example.com', password: '🦊'.repeat(257) });
      assert.equal(b.status, 400, b.text);
      assert.equal(b.json.error.code, 'password_too_long');
    });

    test('an invalid email → 400 invalid_email', async () => {
      const users = await countRows(server.ctx.db, 'users');
      for (const email of ['', '   ', 'not-an-email', 'a@b', 'two words@example.com', 'x@' + 'y'.repeat(250) + '.com']) {
        const r = await server.client().post('/api/v1/signup', { email, password: PASSWORD });
        assert.equal(r.status, 400, `${email}: ${r.text}`);
        assert.equal(r.json.error.code, 'invalid_email', email);
        assert.match(r.json.error.message, /email/i);
      }
      assert.equal(await countRows(server.ctx.db, 'users'), users);
    });

    test('signing up records a signup event', async () => {
      const c = server.client();
      assert.equal((await c.post('/api/v1/signup', { email: 'events@example.com', password: PASSWORD }, { 'user-agent': 'signup-test/1' })).status, 201);
      const log = await c.get('/api/v1/me/security-log');
      assert.equal(log.status, 200);
      assert.deepEqual(
        log.json.map((e: { type: string; ip: string; userAgent: string }) => [e.type, e.ip, e.userAgent]),
        [['signup', '127.0.0.1', 'signup-test/1']],
      );
    });
  });

  describe(`POST /api/v1/signup with TWOFOLD_SIGNUP=closed (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { env: { TWOFOLD_SIGNUP: 'closed' } });
    });
    after(async () => {
      await server?.close();
    });

    test('403 signup_closed and no account', async () => {
      const c = server.client();
      const r = await c.post('/api/v1/signup', { email: 'closed@example.com', password: PASSWORD });
      assert.equal(r.status, 403, r.text);
      assert.equal(r.json.error.code, 'signup_closed');
      assert.match(r.json.error.message, /operator/);
      assert.equal(c.cookies.size, 0);
      assert.equal(await countRows(server.ctx.db, 'users'), 0);
      assert.equal(await countRows(server.ctx.db, 'sessions'), 0);
    });
  });
}
