import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, PASSWORD } from '../helpers/totp.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The `_csrf` value of the first form on a page. */
function formToken(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'a CSRF field on the page');
  return m[1]!;
}

describe('form CSRF tokens are bound to the session', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { publicHost: true });
  });
  after(async () => {
    await server?.close();
  });

  async function signedIn(email: string): Promise<Client> {
    const c = new Client(server.publicUrl);
    assert.equal((await c.post(`${API}/signup`, { email, password: PASSWORD })).status, 201);
    return c;
  }

  test('a planted seed cookie with the attacker’s own token is refused, and changes nothing', async () => {
    // The attacker gets a seed and its token from the login page, signed out…
    const attacker = new Client(server.publicUrl);
    const anonymousToken = formToken((await attacker.get('/login')).text);
    const seed = attacker.cookies.get('twofold_csrf')!;
    assert.ok(seed);
    // …and signed in to an account of their own.
    const attackerSignedIn = await signedIn('attacker@example.com');
    attackerSignedIn.cookies.set('twofold_csrf', seed);
    const ownSessionToken = formToken((await attackerSignedIn.get('/settings')).text);

    const victim = await signedIn('victim@example.com');
    victim.cookies.set('twofold_csrf', seed); // planted
    for (const [what, token] of [
      ['the signed-out token', anonymousToken],
      ['the attacker’s signed-in token', ownSessionToken],
    ] as const) {
      const r = await victim.post('/logout', `_csrf=${encodeURIComponent(token)}`, FORM);
      assert.equal(r.status, 403, `${what}: ${r.status}`);
      assert.match(r.text, /This form has expired/);
      assert.equal((await victim.get(`${API}/me`)).status, 200, `${what}: the victim is still signed in`);
    }
  });

  test('the page’s own token works, signed in and signed out', async () => {
    const c = await signedIn('own@example.com');
    const token = formToken((await c.get('/settings')).text);
    const r = await c.post('/logout', `_csrf=${encodeURIComponent(token)}`, FORM);
    assert.equal(r.status, 303, r.text);
    assert.equal((await c.get(`${API}/me`)).status, 401);
    // Signed out, the login form's token works for logging in again.
    const login = formToken((await c.get('/login')).text);
    const again = await c.post('/login', `_csrf=${encodeURIComponent(login)}&email=own%40example.com&password=${encodeURIComponent(PASSWORD)}`, FORM);
    assert.equal(again.status, 303, again.text);
    assert.equal((await c.get(`${API}/me`)).status, 200);
  });

  test('a token from before a login does not work after it (the session changed)', async () => {
    const c = new Client(server.publicUrl);
    assert.equal((await c.post(`${API}/signup`, { email: 'rotate@example.com', password: PASSWORD })).status, 201);
    const before = formToken((await c.get('/settings')).text);
    await c.post(`${API}/logout`);
    assert.equal((await c.post(`${API}/login`, { email: 'rotate@example.com', password: PASSWORD })).status, 200);
    const r = await c.post('/logout', `_csrf=${encodeURIComponent(before)}`, FORM);
    assert.equal(r.status, 403);
  });
});
