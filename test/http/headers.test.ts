import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

function parseCsp(header: string): Map<string, string[]> {
  return new Map(
    header
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name, ...values] = d.split(/\s+/);
        return [name!.toLowerCase(), values];
      }),
  );
}

for (const { kind, skip } of databaseKinds()) {
  describe(`health and security headers (${kind})`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind);
    });
    after(async () => {
      await server?.close();
    });

    test('GET /healthz → 200 once ready, not cached', async () => {
      const r = await server.client().get('/healthz');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { status: 'ok' });
      assert.equal(r.headers.get('cache-control'), 'no-store');
    });

    test('a strict Content-Security-Policy on every answer', async () => {
      const c = server.client();
      const answers = [
        await c.get('/healthz'),
        await c.get('/api/v1/me'),
        await c.get('/no/such/page'),
        await c.post('/api/v1/login', { email: 'x@example.com', password: 'whatever!' }),
        await c.post('/api/v1/login', '{', { 'content-type': 'application/json' }),
      ];
      for (const r of answers) {
        const header = r.headers.get('content-security-policy');
        assert.ok(header, `no CSP on a ${r.status}`);
        assert.doesNotMatch(header, /unsafe-inline|unsafe-eval|unsafe-hashes|\*/);
        const csp = parseCsp(header);
        assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
        assert.deepEqual(csp.get('default-src'), ["'none'"]);
        assert.deepEqual(csp.get('object-src'), ["'none'"]);
        assert.deepEqual(csp.get('base-uri'), ["'none'"]);
        assert.deepEqual(csp.get('script-src'), ["'self'"]);
        assert.deepEqual(csp.get('form-action'), ["'self'"]);
      }
    });

    test('pages get every browser header; JSON answers the ones that mean something for them', async () => {
      const page = await server.client().get('/no/such/page');
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
      // same-origin, not no-referrer: pages need their own posts to carry an Origin; other sites learn nothing.
      assert.equal(page.headers.get('referrer-policy'), 'same-origin');
      assert.ok(page.headers.get('x-frame-options'));
      assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(page.headers.get('origin-agent-cluster'), '?1');
      assert.equal(page.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
      assert.equal(page.headers.get('x-powered-by'), null);
      for (const path of ['/healthz', '/api/v1/me', '/api/v1/nothing-here']) {
        const r = await server.client().get(path);
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
        assert.equal(r.headers.get('referrer-policy'), 'same-origin', path);
        assert.ok(r.headers.get('x-frame-options'), path);
        assert.equal(r.headers.get('cross-origin-resource-policy'), 'same-origin', path);
        assert.equal(r.headers.get('cache-control'), 'no-store', path);
        assert.equal(r.headers.get('x-powered-by'), null, path);
      }
    });

    test('forward-auth answers a browser may see (refusals, errors) carry the JSON headers', async () => {
      const c = server.client();
      // Not a proxy's question (no X-Forwarded-*): 400; and an unknown /authz address: 404.
      for (const r of [await c.get('/authz/forward-auth'), await c.get('/authz/auth-request'), await c.get('/authz/nothing-here')]) {
        assert.ok(r.status >= 400, `status ${r.status}`);
        assert.ok(r.headers.get('content-security-policy'), `no CSP on a ${r.status}`);
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(r.headers.get('cache-control'), 'no-store');
      }
    });

    test('an unknown address is a JSON 404', async () => {
      const r = await server.client().get('/api/v1/nothing-here');
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, 'not_found');
    });
  });
}
