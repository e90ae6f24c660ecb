import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const EMAIL = 'log@example.com';
const PASSWORD = 'correct horse battery';
const MIN = 60_000;

interface Event {
  type: string;
  at: string;
  ip: string | null;
  userAgent: string | null;
}

for (const { kind, skip } of databaseKinds()) {
  describe(`GET /api/v1/me/security-log (${kind})`, { skip }, () => {
    const clock = manualClock();
    const t0 = clock.now();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock });
      const ua = (n: number) => ({ 'user-agent': `browser/${n}` });
      const a = server.client();
      assert.equal((await a.post('/api/v1/signup', { email: EMAIL, password: PASSWORD }, ua(1))).status, 201);
      clock.advance(MIN);
      assert.equal((await a.post('/api/v1/logout', undefined, ua(2))).status, 204);
      clock.advance(MIN);
      assert.equal((await a.post('/api/v1/login', { email: EMAIL, password: 'wrong password!' }, ua(3))).status, 401);
      clock.advance(MIN);
      // An unknown email has no account and so no log.
      assert.equal((await a.post('/api/v1/login', { email: 'nobody@example.com', password: PASSWORD }, ua(4))).status, 401);
      clock.advance(MIN);
      assert.equal((await a.post('/api/v1/login', { email: EMAIL, password: PASSWORD }, ua(5))).status, 200);
      // Someone else's events stay theirs.
      const b = server.client();
      assert.equal((await b.post('/api/v1/signup', { email: 'other@example.com', password: PASSWORD })).status, 201);
      assert.equal((await b.post('/api/v1/login', { email: 'other@example.com', password: 'wrong password!' })).status, 401);
    });
    after(async () => {
      await server?.close();
    });

    async function signedIn() {
      clock.advance(MIN);
      const c = server.client();
      assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: PASSWORD }, { 'user-agent': 'reader' })).status, 200);
      return c;
    }

    test('lists signup, logout, failed login and login newest first, with time, IP and user agent', async () => {
      const reader = await signedIn();
      const log = await reader.get('/api/v1/me/security-log');
      assert.equal(log.status, 200, log.text);
      assert.match(log.headers.get('content-type') ?? '', /application\/json/);
      const events = log.json as Event[];
      assert.deepEqual(
        events.map((e) => [e.type, e.userAgent, e.ip]),
        [
          ['login', 'reader', '127.0.0.1'],
          ['login', 'browser/5', '127.0.0.1'],
          ['login_failed', 'browser/3', '127.0.0.1'],
          ['logout', 'browser/2', '127.0.0.1'],
          ['signup', 'browser/1', '127.0.0.1'],
        ],
      );
      assert.equal(events.at(-1)!.at, new Date(t0).toISOString());
      assert.equal(events[3]!.at, new Date(t0 + MIN).toISOString());
      assert.equal(events[2]!.at, new Date(t0 + 2 * MIN).toISOString());
      for (const e of events) assert.ok(!JSON.stringify(e).includes(PASSWORD) && !JSON.stringify(e).includes('wrong password'));
    });

    test('limit and before page through the log', async () => {
      const c = await signedIn();
      const all = (await c.get('/api/v1/me/security-log')).json as Event[];
      assert.ok(all.length >= 5);
      const first = await c.get('/api/v1/me/security-log?limit=2');
      assert.equal(first.status, 200);
      assert.deepEqual(first.json, all.slice(0, 2));
      const boundary = all[1]!.at;
      const next = await c.get(`/api/v1/me/security-log?limit=2&before=${encodeURIComponent(boundary)}`);
      assert.equal(next.status, 200);
      assert.deepEqual(next.json, all.filter((e) => e.at < boundary).slice(0, 2));
      // Epoch milliseconds work as well as ISO times.
      const byMs = await c.get(`/api/v1/me/security-log?before=${t0 + MIN}`);
      assert.deepEqual(
        byMs.json.map((e: Event) => e.type),
        ['signup'],
      );
      const none = await c.get(`/api/v1/me/security-log?before=${encodeURIComponent(new Date(t0).toISOString())}`);
      assert.deepEqual(none.json, []);
      const max = await c.get('/api/v1/me/security-log?limit=100');
      assert.equal(max.status, 200);
      assert.deepEqual(max.json, all);
    });

    test('a bad limit or before → 400 with a JSON error', async () => {
      const c = await signedIn();
      for (const q of ['limit=0', 'limit=101', 'limit=-5', 'limit=ten', 'limit=', 'before=not-a-time', 'before=2026-13-45', 'page=2']) {
        const r = await c.get(`/api/v1/me/security-log?${q}`);
        assert.equal(r.status, 400, `${q}: ${r.text}`);
        assert.equal(typeof r.json.error.code, 'string', q);
        assert.equal(typeof r.json.error.message, 'string', q);
      }
    });

    test('numbers beyond what the database holds → 400, never a 500 (a 20-digit before overflowed bigint)', async () => {
      const c = await signedIn();
      const huge = [
        'before=99999999999999999999',
        'before=9223372036854775808',
        'before=1000000000000000',
        'before=1e300',
        'before=-1',
        'before=%2B999999-01-01T00:00:00Z',
        'before=275760-09-13T00:00:00.001Z',
        'limit=99999999999999999999',
        'limit=1000',
      ];
      for (const q of huge) {
        const r = await c.get(`/api/v1/me/security-log?${q}`);
        assert.equal(r.status, 400, `${q}: ${r.text}`);
        assert.equal(r.json.error.code, 'invalid_request', q);
      }
      // The largest accepted values still work.
      for (const q of ['before=999999999999999', 'limit=100', 'limit=1', `before=${encodeURIComponent('2026-01-01T00:00:00.000Z')}`, 'before=2026-01-01']) {
        const r = await c.get(`/api/v1/me/security-log?${q}`);
        assert.equal(r.status, 200, `${q}: ${r.text}`);
      }
    });

    test('signed out → 401', async () => {
      const r = await server.client().get('/api/v1/me/security-log');
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'unauthenticated');
    });
  });
}

describe('security log pagination with events in the same millisecond', () => {
  test('`before` does not skip an event that shares its time with the last one of a page', async () => {
    const clock = manualClock();
    const server = await startTestServer('sqlite', { clock });
    try {
      const c = server.client();
      assert.equal((await c.post('/api/v1/signup', { email: EMAIL, password: PASSWORD })).status, 201);
      assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: 'wrong password!' })).status, 401);
      assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: PASSWORD })).status, 200);
      const all = (await c.get('/api/v1/me/security-log')).json as Event[];
      assert.equal(all.length, 3);
      const seen: string[] = [];
      let before = '';
      for (let i = 0; i < 5; i++) {
        const page = (await c.get(`/api/v1/me/security-log?limit=1${before ? `&before=${encodeURIComponent(before)}` : ''}`)).json as Event[];
        if (page.length === 0) break;
        // A page holds every event of its last millisecond, so it may exceed the limit.
        assert.ok(page.every((e) => e.at === page[0]!.at));
        seen.push(...page.map((e) => e.type));
        before = page.at(-1)!.at;
      }
      assert.deepEqual(seen.sort(), all.map((e) => e.type).sort());
    } finally {
      await server.close();
    }
  });
});
