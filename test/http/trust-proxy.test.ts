import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestServer } from '../helpers/server.js';
import { API, PASSWORD } from '../helpers/totp.js';

/** The IP the service logs for a signup whose request carries `forwardedFor`. */
async function loggedIp(trustProxy: string | undefined, forwardedFor: string): Promise<string | null> {
  const server = await startTestServer('sqlite', { env: trustProxy === undefined ? {} : { TWOFOLD_TRUST_PROXY: trustProxy } });
  try {
    const c = server.client({ 'x-forwarded-for': forwardedFor });
    assert.equal((await c.post(`${API}/signup`, { email: 'proxied@example.com', password: PASSWORD })).status, 201);
    const log = (await c.get(`${API}/me/security-log`)).json as { type: string; ip: string | null }[];
    return log.find((e) => e.type === 'signup')!.ip;
  } finally {
    await server.close();
  }
}

describe('TWOFOLD_TRUST_PROXY: the client cannot pick its own IP', () => {
  // The client writes the left entry itself; the proxy (here the test, on 127.0.0.1) appends the
  // address it saw on the right.
  const xff = '6.6.6.6, 203.0.113.7';

  test('off: the socket address, whatever the header says', async () => {
    assert.equal(await loggedIp(undefined, xff), '127.0.0.1');
  });

  test('one hop: the address the proxy saw, not the one the client wrote', async () => {
    assert.equal(await loggedIp('1', xff), '203.0.113.7');
  });

  test('the proxy’s address: the same', async () => {
    assert.equal(await loggedIp('127.0.0.1', xff), '203.0.113.7');
    assert.equal(await loggedIp('127.0.0.0/8,10.0.0.1', xff), '203.0.113.7');
  });

  test('a request not from a listed proxy: its header is ignored', async () => {
    assert.equal(await loggedIp('10.0.0.1', xff), '127.0.0.1');
  });
});
