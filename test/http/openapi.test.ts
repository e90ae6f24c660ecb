import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

for (const { kind, skip } of databaseKinds()) {
  describe(`GET /api/v1/openapi.json (${kind})`, { skip }, () => {
    let server: TestServer;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let doc: any;
    before(async () => {
      server = await startTestServer(kind);
      const r = await server.client().get('/api/v1/openapi.json');
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/);
      doc = r.json;
    });
    after(async () => {
      await server?.close();
    });

    test('is an OpenAPI 3 document', () => {
      assert.match(doc.openapi, /^3\.\d+\.\d+$/);
      assert.equal(typeof doc.info.title, 'string');
      assert.equal(typeof doc.info.version, 'string');
      assert.equal(typeof doc.paths, 'object');
      assert.ok(doc.components.schemas.Error, 'the shared error schema');
    });

    test('lists the routes of the foundation', () => {
      const expected: [string, string][] = [
        ['/api/v1/signup', 'post'],
        ['/api/v1/login', 'post'],
        ['/api/v1/logout', 'post'],
        ['/api/v1/me', 'get'],
        ['/api/v1/me/security-log', 'get'],
      ];
      for (const [path, method] of expected) assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is missing`);
      assert.equal(doc.paths['/healthz'], undefined);
      assert.equal(doc.paths['/api/v1/openapi.json'], undefined);
    });

    test('documents the JSON API only, not the HTML pages', () => {
      const outside = Object.keys(doc.paths).filter((p) => !p.startsWith('/api/v1/'));
      assert.deepEqual(outside, []);
    });

    test('with the body schemas that validate: required fields, no unknown fields', () => {
      for (const path of ['/api/v1/signup', '/api/v1/login']) {
        const body = doc.paths[path].post.requestBody;
        assert.equal(body.required, true, path);
        const schema = body.content['application/json'].schema;
        assert.equal(schema.type, 'object', path);
        assert.equal(schema.additionalProperties, false, path);
        assert.deepEqual([...schema.required].sort(), ['email', 'password'], path);
        assert.equal(schema.properties.email.type, 'string');
        assert.equal(schema.properties.password.type, 'string');
      }
      const log = doc.paths['/api/v1/me/security-log'].get;
      const params = Object.fromEntries(log.parameters.map((p: { name: string; in: string }) => [p.name, p.in]));
      assert.deepEqual(params, { limit: 'query', before: 'query' });
    });

    test('error answers refer to the Error schema', () => {
      const ref = doc.paths['/api/v1/login'].post.responses['401'].content['application/json'].schema.$ref;
      assert.equal(ref, '#/components/schemas/Error');
      const ok = doc.paths['/api/v1/signup'].post.responses['201'].content['application/json'].schema;
      assert.deepEqual(ok.required, ['user']);
    });

    test('every operation has a summary and every $ref resolves', () => {
      const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
      for (const r of refs) {
        const target = r.slice('"$ref":"'.length, -1);
        assert.match(target, /^#\/components\/schemas\//, target);
        assert.ok(doc.components.schemas[target.split('/').pop()!], `${target} does not resolve`);
      }
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item as Record<string, { summary?: string }>)) {
          assert.ok(op.summary, `${method.toUpperCase()} ${path} has no summary`);
        }
      }
    });
  });
}
