import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, PASSWORD } from '../helpers/totp.js';

const TRICKS = [
  '/..//evil.example',
  '/.//evil.example',
  '/%2e%2e//evil.example',
  '/a/..//evil.example',
  '/a/%2e%2e//evil.example',
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '/%5cevil.example',
  '/\t/evil.example',
  ' //evil.example',
  'https://evil.example/',
  '//user@evil.example',
  'javascript:alert(1)',
  '/\uff0fevil.example',
];

/** Where a browser on the service's page would go when following `location`. */
function target(server: TestServer, location: string | null): URL {
  assert.ok(location, 'a redirect');
  return new URL(location, server.publicUrl + '/login');
}

describe('next: redirects stay on the site (pages)', () => {
  let server: TestServer;
  let signedIn: Client;
  before(async () => {
    // Pages answer on PUBLIC_URL's host only (others are redirected there).
    server = await startTestServer('sqlite', { publicHost: true });
    signedIn = new Client(server.publicUrl);
    assert.equal((await signedIn.post(`${API}/signup`, { email: 'next@example.com', password: PASSWORD })).status, 201);
  });
  after(async () => {
    await server?.close();
  });

  test('a signed-in person opening /login or /login/two-factor with a trick in next stays on the site', async () => {
    for (const trick of TRICKS) {
      for (const page of ['/login', '/login/two-factor']) {
        const r = await signedIn.get(`${page}?next=${encodeURIComponent(trick)}`);
        assert.equal(r.status, 303, `${page} ${JSON.stringify(trick)}`);
        const to = target(server, r.headers.get('location'));
        assert.equal(to.origin, server.publicUrl, `${page}?next=${JSON.stringify(trick)} → ${r.headers.get('location')}`);
        assert.equal(to.pathname, '/settings', `${page}?next=${JSON.stringify(trick)} → ${r.headers.get('location')}`);
      }
    }
  });

  test('a real path in next is where the login ends', async () => {
    const r = await signedIn.get(`/login?next=${encodeURIComponent('/settings?notice=x')}`);
    assert.equal(r.headers.get('location'), '/settings?notice=x');
    const dots = await signedIn.get(`/login?next=${encodeURIComponent('/a/../settings')}`);
    assert.equal(dots.headers.get('location'), '/settings', 'emitted as normalised');
  });
});

test('the redirect to PUBLIC_URL’s host keeps the path and never leaves that origin', async () => {
  const { onPublicOrigin } = await import('../../src/http/pages/index.js');
  const origin = 'https://login.example.com';
  const cases: [string, string][] = [
    ['/settings?x=1', 'https://login.example.com/settings?x=1'],
    ['//evil.example/x', 'https://login.example.com//evil.example/x'],
    ['http://evil.example/login', 'https://login.example.com/'],
    ['*', 'https://login.example.com/'],
    ['.evil.example/', 'https://login.example.com/'],
    ['@evil.example/', 'https://login.example.com/'],
  ];
  for (const [url, expected] of cases) {
    const location = onPublicOrigin(origin, url);
    assert.equal(location, expected, url);
    assert.equal(new URL(location).origin, origin, url);
  }
});
