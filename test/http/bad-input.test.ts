import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { assertJsonError, type Answer, type Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotTables } from '../helpers/snapshot.js';

const EMAIL = 'bad-input@example.com';
const PASSWORD = 'correct horse battery';
const JSON_TYPE = { 'content-type': 'application/json' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = any;

/** A value of the wrong JSON type for a property schema, or undefined when any value might do. */
function wrongValue(s: Schema): unknown {
  const t = s?.type ?? (s?.enum || s?.const !== undefined ? 'enum' : undefined);
  switch (t) {
    case 'string':
    case 'enum':
      return 12345;
    case 'boolean':
      return 'yes';
    case 'integer':
    case 'number':
      return 'twelve';
    case 'object':
      return 'not an object';
    case 'array':
      return { not: 'an array' };
    default:
      if (s?.anyOf || s?.oneOf) return { unexpected: { nested: true } };
      return undefined;
  }
}

interface Route {
  method: 'POST' | 'DELETE' | 'PATCH';
  path: string;
  body: Schema | undefined;
}

/** Every POST and PATCH (and DELETE with a body) the API documents, with a concrete path. */
function routesOf(doc: Schema): Route[] {
  const routes: Route[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
    for (const method of ['post', 'delete', 'patch'] as const) {
      const op = item[method];
      if (!op) continue;
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (method === 'delete' && !body) continue;
      routes.push({ method: method.toUpperCase() as Route['method'], path: path.replace(/\{[^}]+\}/g, 'no-such-id'), body });
    }
  }
  return routes;
}

/** Bad bodies every route must refuse, bodyless or not. */
function parseLevelCases(): [string, string, Record<string, string>, number | undefined][] {
  return [
    ['malformed JSON', '{"email": "a@example.com", ', JSON_TYPE, 400],
    ['a JSON syntax error after valid JSON', '{} {}', JSON_TYPE, 400],
    ['70 KiB body', JSON.stringify({ email: EMAIL, password: 'x'.repeat(70 * 1024) }), JSON_TYPE, 413],
    ['text/plain', JSON.stringify({ email: EMAIL, password: PASSWORD }), { 'content-type': 'text/plain' }, 415],
    ['form-encoded', `email=${encodeURIComponent(EMAIL)}&password=x`, { 'content-type': 'application/x-www-form-urlencoded' }, 415],
    ['multipart', '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nx\r\n--b--\r\n', { 'content-type': 'multipart/form-data; boundary=b' }, 415],
    ['no content type', JSON.stringify({ email: EMAIL, password: PASSWORD }), {}, 415],
  ];
}

/** Bad bodies for a route whose body has a schema. */
function schemaCases(schema: Schema): [string, unknown][] {
  const cases: [string, unknown][] = [
    ['array body', []],
    ['string body', 'just a string'],
    ['number body', 42],
    ['null body', null],
    ['unknown field only', { isAdmin: true }],
  ];
  if (schema.required?.length) cases.push(['empty object (missing fields)', {}]);
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const wrong: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(props)) {
    const v = wrongValue(s);
    if (v !== undefined) wrong[name] = v;
  }
  if (Object.keys(wrong).length) cases.push(['every field of the wrong type', wrong]);
  const nul: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(props)) if (s?.type === 'string') nul[name] = 'a\u0000b@example.com';
  if (Object.keys(nul).length) cases.push(['NUL bytes', nul]);
  return cases;
}

for (const { kind, skip } of databaseKinds()) {
  describe(`bad input changes nothing (${kind})`, { skip }, () => {
    // A still clock: nothing legitimately writes (no session touch) between two snapshots.
    const clock = manualClock();
    let server: TestServer;
    let user: Client;
    before(async () => {
      server = await startTestServer(kind, { clock });
      user = server.client();
      assert.equal((await user.post('/api/v1/signup', { email: EMAIL, password: PASSWORD })).status, 201);
    });
    after(async () => {
      await server?.close();
    });

    /** Sends one request as the signed-in user and checks it was refused with a JSON 4xx. */
    async function refused(what: string, send: (c: Client) => Promise<Answer>, status?: number): Promise<Answer> {
      const r = await send(user);
      assertJsonError(r, what, status);
      return r;
    }

    /** Runs a group of refusals and checks the database is exactly as before them. */
    async function unchanged(what: string, group: () => Promise<void>): Promise<void> {
      const before = await snapshotTables(server.ctx.db);
      await group();
      assert.deepEqual(await snapshotTables(server.ctx.db), before, `${what}: the database changed`);
    }

    test('signup and login: each kind of bad input, with its status and code', async () => {
      const valid = { email: 'new@example.com', password: PASSWORD };
      for (const path of ['/api/v1/signup', '/api/v1/login']) await unchanged(path, async () => {
        const cases: [string, unknown, number, string?][] = [
          ['missing password', { email: valid.email }, 400, 'invalid_request'],
          ['missing email', { password: PASSWORD }, 400, 'invalid_request'],
          ['email is a number', { email: 42, password: PASSWORD }, 400, 'invalid_request'],
          ['password is an array', { email: valid.email, password: [PASSWORD] }, 400, 'invalid_request'],
          ['password is null', { email: valid.email, password: null }, 400, 'invalid_request'],
          ['password is an object', { email: valid.email, password: { $ne: '' } }, 400, 'invalid_request'],
          ['unknown field', { ...valid, role: 'admin' }, 400, 'invalid_request'],
          ['prototype pollution', JSON.parse(`{"email":"${valid.email}","password":"${PASSWORD}","__proto__":{"admin":true}}`), 400],
          ['NUL in the email', { email: 'new\u0000@example.com', password: PASSWORD }, 400, 'invalid_request'],
          ['NUL in the password', { email: valid.email, password: 'correct\u0000horse battery' }, 400, 'invalid_request'],
          ['a 2,000-character password', { email: valid.email, password: 'p'.repeat(2000) }, 400],
          ['a 1,000-character email', { email: 'e'.repeat(990) + '@example.com', password: PASSWORD }, 400],
          ['array body', [valid], 400],
          ['null body', null, 400],
        ];
        for (const [what, body, status, code] of cases) {
          const r = await refused(`${path}: ${what}`, (c) => c.post(path, JSON.stringify(body), JSON_TYPE), status);
          if (code) assert.equal(r.json.error.code, code, `${path}: ${what}`);
        }
        await refused(`${path}: empty body with a JSON type`, (c) => c.post(path, '', JSON_TYPE), 400);
        await refused(`${path}: no body at all`, (c) => c.request('POST', path), 400);
        const big = await refused(`${path}: 70 KiB`, (c) => c.post(path, JSON.stringify({ ...valid, password: 'x'.repeat(70 * 1024) }), JSON_TYPE), 413);
        assert.equal(big.json.error.code, 'body_too_large');
        const plain = await refused(`${path}: text/plain`, (c) => c.post(path, JSON.stringify(valid), { 'content-type': 'text/plain' }), 415);
        assert.equal(plain.json.error.code, 'unsupported_media_type');
        await refused(`${path}: form`, (c) => c.post(path, 'email=new%40example.com&password=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415);
        const bad = await refused(`${path}: malformed`, (c) => c.post(path, '{"email":', JSON_TYPE), 400);
        assert.equal(bad.json.error.code, 'invalid_json');
      });
      // The signed-in session survived all of it.
      assert.equal((await user.get('/api/v1/me')).status, 200);
    });

    test('a 64 KiB body is still parsed (the limit is not lower than promised)', async () => {
      const body = JSON.stringify({ email: 'limit@example.com', password: 'x'.repeat(60 * 1024) });
      await unchanged('60 KiB', async () => {
        const r = await refused('60 KiB password', (c) => c.post('/api/v1/login', body, JSON_TYPE), 400);
        assert.equal(r.json.error.code, 'invalid_request', 'refused by the schema, not by the size limit');
      });
    });

    test('every POST route of the API refuses bad input with a JSON 4xx and changes nothing', async () => {
      const doc = (await server.client().get('/api/v1/openapi.json')).json;
      const routes = routesOf(doc);
      assert.ok(routes.some((r) => r.path === '/api/v1/signup'));
      assert.ok(routes.some((r) => r.path === '/api/v1/logout'));
      assert.ok(routes.some((r) => r.method === 'PATCH' && r.path === '/api/v1/me/security-keys/no-such-id'));
      assert.ok(routes.some((r) => r.path === '/api/v1/login/passkey'));
      for (const route of routes) await unchanged(`${route.method} ${route.path}`, async () => {
        const name = `${route.method} ${route.path}`;
        for (const [what, body, headers, status] of parseLevelCases()) {
          await refused(`${name}: ${what}`, (c) => c.request(route.method, route.path, body, headers), status);
        }
        if (!route.body) return;
        await refused(`${name}: empty body`, (c) => c.request(route.method, route.path, '', JSON_TYPE), 400);
        for (const [what, body] of schemaCases(route.body)) {
          await refused(`${name}: ${what}`, (c) => c.request(route.method, route.path, JSON.stringify(body), JSON_TYPE), 400);
        }
      });
      assert.equal((await user.get('/api/v1/me')).status, 200, 'still signed in');
    });

    test('bad query strings on GET routes are 4xx too', async () => {
      await unchanged('security-log', async () => {
        for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=-1', 'limit=1.5', 'limit=1e2', 'before=yesterday', 'unknown=1', 'limit=%00']) {
          await refused(`security-log?${q}`, (c) => c.get(`/api/v1/me/security-log?${q}`), 400);
        }
      });
    });
  });
}
