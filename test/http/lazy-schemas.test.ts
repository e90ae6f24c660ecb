import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { lazySerializers, lazyValidators } from '../../src/http/lazy-schemas.js';

// The schemas compile on first use, but a route must behave exactly as with Fastify's eager
// compilers: the validation errors reach the error handler, the serializer drops what the response
// schema does not name, shared schemas ($ref) resolve, and ajv gets the server's options.
async function app() {
  const a = Fastify({
    // As the server sets it (Fastify's default drops unknown fields): the options must reach ajv.
    ajv: { customOptions: { removeAdditional: false } },
    schemaController: { compilersFactory: { buildValidator: lazyValidators, buildSerializer: lazySerializers } },
  });
  a.addSchema({ $id: 'Name', type: 'string', minLength: 2 });
  a.post(
    '/echo',
    {
      schema: {
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { $ref: 'Name#' } } },
        querystring: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', maximum: 5 } } },
        response: { 200: { type: 'object', properties: { name: { type: 'string' } } } },
      },
    },
    async (req) => ({ ...(req.body as object), secret: 'not in the schema' }),
  );
  await a.ready();
  return a;
}

test('a lazily compiled route validates, reports and serializes as an eager one', async () => {
  const a = await app();
  try {
    const ok = await a.inject({ method: 'POST', url: '/echo', payload: { name: 'Ada' } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { name: 'Ada' });

    const short = await a.inject({ method: 'POST', url: '/echo', payload: { name: 'A' } });
    assert.equal(short.statusCode, 400);
    assert.match(short.json().message, /body\/name must NOT have fewer than 2 characters/);

    const extra = await a.inject({ method: 'POST', url: '/echo', payload: { name: 'Ada', admin: true } });
    assert.equal(extra.statusCode, 400);
    assert.match(extra.json().message, /must NOT have additional properties/);

    const query = await a.inject({ method: 'POST', url: '/echo?n=9', payload: { name: 'Ada' } });
    assert.equal(query.statusCode, 400);
    assert.match(query.json().message, /querystring\/n must be <= 5/);

    // After a failure, the same compiled validator still passes good input (errors are per call).
    const again = await a.inject({ method: 'POST', url: '/echo?n=2', payload: { name: 'Grace' } });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), { name: 'Grace' });
  } finally {
    await a.close();
  }
});
