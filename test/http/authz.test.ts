import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { reloadAccessRules } from '../../src/service/authz.js';
import { changeGroups } from '../../src/service/groups.js';
import { tempDir } from '../helpers/cli.js';
import type { Answer, Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotTables } from '../helpers/snapshot.js';
import { API, PASSWORD, signupWithTwoFactor, totpLogin, userIdOf, codeAt, nextStep } from '../helpers/totp.js';

const RULES = `
default_policy: deny
rules:
  - domain: public.example.test
    policy: bypass
  - domain: "*.example.test"
    resources: ["^/healthz$"]
    policy: bypass
  - domain: admin.example.test
    subject: ["group:admins"]
    policy: two_factor
  - domain: secure.example.test
    policy: two_factor
  - domain: fresh.example.test
    policy: one_factor
    fresh: 5m
  - domain: [app.example.test, wiki.example.test]
    methods: [GET, HEAD, POST]
    policy: one_factor
  - domain: closed.example.test
    policy: deny
`;

const PUBLIC = 'http://auth.example.test';

/** The headers Traefik and Caddy send for `url`. */
function forwarded(url: string, method = 'GET'): Record<string, string> {
  const u = new URL(url);
  return { 'x-forwarded-method': method, 'x-forwarded-proto': u.protocol.slice(0, -1), 'x-forwarded-host': u.host, 'x-forwarded-uri': u.pathname + u.search };
}
/** The headers the README's nginx configuration sends. */
function original(url: string, method = 'GET'): Record<string, string> {
  return { 'x-original-url': url, 'x-original-method': method };
}

const forwardAuth = (c: Client, url: string, method = 'GET', extra: Record<string, string> = {}) => c.get('/authz/forward-auth', { ...forwarded(url, method), ...extra });
const authRequest = (c: Client, url: string, method = 'GET', extra: Record<string, string> = {}) => c.get('/authz/auth-request', { ...original(url, method), ...extra });

function assertAllowed(r: Answer, email: string | null, groups = '') {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '');
  // Nobody (a bypass without a session): present and empty, so no proxy keeps a client's value.
  assert.equal(r.headers.get('remote-user'), email ?? '');
  assert.equal(r.headers.get('remote-email'), email ?? '');
  assert.equal(r.headers.get('remote-groups'), email === null ? '' : groups);
}

function assertLogin(r: Answer, status: number, url: string) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('location'), `${PUBLIC}/login?rd=${encodeURIComponent(url)}`);
  assert.equal(r.headers.get('remote-user'), null);
}

for (const { kind, skip } of databaseKinds()) {
  describe(`forward authentication (${kind})`, { skip }, () => {
    const clock = manualClock();
    const dir = tempDir('twofold-rules-');
    const rulesFile = join(dir.path, 'rules.yml');
    let server: TestServer;
    before(async () => {
      writeFileSync(rulesFile, RULES);
      server = await startTestServer(kind, { clock, env: { PUBLIC_URL: PUBLIC, TWOFOLD_COOKIE_DOMAIN: 'example.test', TWOFOLD_ACCESS_RULES: rulesFile } });
    });
    after(async () => {
      await server?.close();
      dir.remove();
    });

    test('not signed in: forward-auth redirects (302 for GET/HEAD, 303 otherwise) or 401 for JSON/XHR; auth-request 401 with Location', async () => {
      const c = server.client();
      const url = 'https://app.example.test/wiki/page?x=1&y=a%20b';
      assertLogin(await forwardAuth(c, url), 302, url);
      assertLogin(await forwardAuth(c, url, 'HEAD'), 302, url);
      assertLogin(await forwardAuth(c, url, 'POST'), 303, url);
      assertLogin(await forwardAuth(c, url, 'DELETE'), 303, url);
      const json = await forwardAuth(c, url, 'GET', { accept: 'application/json' });
      assert.equal(json.status, 401);
      assert.equal(json.json.error.code, 'unauthenticated');
      assert.equal((await forwardAuth(c, url, 'GET', { 'x-requested-with': 'XMLHttpRequest' })).status, 401);
      assertLogin(await authRequest(c, url), 401, url);
      assertLogin(await authRequest(c, url, 'POST'), 401, url);
      // Denied and subject rules still send a visitor who is not signed in to log in, never 403.
      assertLogin(await forwardAuth(c, 'https://closed.example.test/'), 302, 'https://closed.example.test/');
      assertLogin(await forwardAuth(c, 'https://admin.example.test/'), 302, 'https://admin.example.test/');
      assertLogin(await forwardAuth(c, 'https://nothing.example.org/'), 302, 'https://nothing.example.org/');
    });

    test('bypass answers 200 without identity headers; both endpoints answer any method', async () => {
      const c = server.client();
      assertAllowed(await forwardAuth(c, 'https://public.example.test/anything'), null);
      assertAllowed(await authRequest(c, 'https://public.example.test/anything'), null);
      assertAllowed(await forwardAuth(c, 'https://app.example.test/healthz'), null);
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        for (const path of ['/authz/forward-auth', '/authz/auth-request']) {
          const r = await c.request(method, path, undefined, { ...forwarded('https://public.example.test/'), ...original('https://public.example.test/') });
          assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
        }
      }
    });

    test('signed in: one_factor allows with Remote-User/Email/Groups; deny and unmatched subjects are 403; group changes apply at the next request', async () => {
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'Ann@Example.test', password: PASSWORD })).status, 201);
      assertAllowed(await forwardAuth(c, 'https://app.example.test/'), 'Ann@Example.test', '');
      assertAllowed(await authRequest(c, 'https://wiki.example.test/x', 'POST'), 'Ann@Example.test', '');
      assertAllowed(await forwardAuth(c, 'https://public.example.test/'), 'Ann@Example.test', '');
      assert.equal((await forwardAuth(c, 'https://app.example.test/', 'DELETE')).status, 403);
      const closed = await authRequest(c, 'https://closed.example.test/');
      assert.equal(closed.status, 403);
      assert.equal(closed.json.error.code, 'forbidden');
      assert.equal((await forwardAuth(c, 'https://admin.example.test/')).status, 403);
      assert.equal((await forwardAuth(c, 'https://elsewhere.example.org/')).status, 403, 'default_policy: deny');

      const id = await userIdOf(server, 'ann@example.test');
      const meta = { ip: null, userAgent: null };
      await changeGroups(server.ctx, id, { add: ['admins', 'ops'] }, meta);
      // In the group now, but without a second factor: sent to log in (and on to set up 2FA).
      assertLogin(await forwardAuth(c, 'https://admin.example.test/'), 302, 'https://admin.example.test/');
      assertAllowed(await forwardAuth(c, 'https://app.example.test/'), 'Ann@Example.test', 'admins,ops');
      await changeGroups(server.ctx, id, { remove: ['admins'] }, meta);
      assertAllowed(await forwardAuth(c, 'https://app.example.test/'), 'Ann@Example.test', 'ops');
      assert.equal((await forwardAuth(c, 'https://admin.example.test/')).status, 403);
    });

    test('two_factor: an account without 2FA never satisfies it; a pending login is nobody; a login with a code does', async () => {
      const plain = server.client();
      assert.equal((await plain.post(`${API}/signup`, { email: 'bob@example.test', password: PASSWORD })).status, 201);
      assertLogin(await forwardAuth(plain, 'https://secure.example.test/'), 302, 'https://secure.example.test/');

      const user = await signupWithTwoFactor(server, clock, 'carol@example.test');
      // Setting up 2FA in this session counts as having the second factor.
      assertAllowed(await forwardAuth(user.client, 'https://secure.example.test/'), 'carol@example.test', '');

      const pending = server.client();
      const r = await pending.post(`${API}/login`, { email: user.email, password: PASSWORD });
      assert.equal(r.json.status, 'two_factor_required');
      assertLogin(await forwardAuth(pending, 'https://app.example.test/'), 302, 'https://app.example.test/');
      nextStep(clock);
      assert.equal((await pending.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(user.secret, clock.now()) })).status, 200);
      assertAllowed(await forwardAuth(pending, 'https://secure.example.test/'), 'carol@example.test', '');

      // A trusted-device login skips the second factor: not enough for two_factor.
      const { client: trusted } = await totpLogin(server, clock, user, { trustDevice: true });
      await trusted.post(`${API}/logout`);
      const again = await trusted.post(`${API}/login`, { email: user.email, password: PASSWORD });
      assert.deepEqual(again.json, { status: 'ok' });
      assertAllowed(await forwardAuth(trusted, 'https://app.example.test/'), 'carol@example.test', '');
      assertLogin(await forwardAuth(trusted, 'https://secure.example.test/'), 302, 'https://secure.example.test/');
    });

    test('fresh: a login older than the rule asks for re-authentication, which satisfies it again', async () => {
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'dan@example.test', password: PASSWORD })).status, 201);
      assertAllowed(await forwardAuth(c, 'https://fresh.example.test/'), 'dan@example.test', '');
      clock.advance(5 * 60_000);
      assertLogin(await forwardAuth(c, 'https://fresh.example.test/'), 302, 'https://fresh.example.test/');
      assertAllowed(await forwardAuth(c, 'https://app.example.test/'), 'dan@example.test', '');
      assert.equal((await c.post(`${API}/me/reauthenticate`, { password: PASSWORD })).status, 204);
      assertAllowed(await forwardAuth(c, 'https://fresh.example.test/'), 'dan@example.test', '');
    });

    test('an address beyond ASCII is sent percent-encoded, never breaking the answer', async () => {
      const c = server.client();
      const r = await c.post(`${API}/signup`, { email: 'jörg.名前@example.test', password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      const encoded = `j${encodeURIComponent('ö')}rg.${encodeURIComponent('名前')}@example.test`;
      assertAllowed(await forwardAuth(c, 'https://app.example.test/'), encoded, '');
      assertAllowed(await authRequest(c, 'https://app.example.test/'), encoded, '');
    });

    test('a foreign Origin on a non-GET subrequest is decided, not refused as cross-site', async () => {
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'eve@example.test', password: PASSWORD })).status, 201);
      const r = await c.request('POST', '/authz/auth-request', undefined, { ...original('https://app.example.test/form', 'POST'), origin: 'https://app.example.test' });
      assertAllowed(r, 'eve@example.test', '');
    });

    test('missing or malformed forwarded headers: 400, never an allow, never a 500, nothing changed', async () => {
      const c = server.client();
      assert.equal((await c.post(`${API}/signup`, { email: 'frank@example.test', password: PASSWORD })).status, 201);
      const good = forwarded('https://public.example.test/x');
      const fa: [string, Record<string, string>][] = [
        ['no headers', {}],
        ['no method', { ...good, 'x-forwarded-method': '' }],
        ['odd method', { ...good, 'x-forwarded-method': 'G3T' }],
        ['no proto', { ...good, 'x-forwarded-proto': '' }],
        ['proto ftp', { ...good, 'x-forwarded-proto': 'ftp' }],
        ['proto list', { ...good, 'x-forwarded-proto': 'https,http' }],
        ['proto javascript', { ...good, 'x-forwarded-proto': 'javascript' }],
        ['no host', { ...good, 'x-forwarded-host': '' }],
        ['host list', { ...good, 'x-forwarded-host': 'public.example.test, evil.example' }],
        ['host with user info', { ...good, 'x-forwarded-host': 'evil.example@public.example.test' }],
        ['host with a path', { ...good, 'x-forwarded-host': 'public.example.test/x' }],
        ['host with a space', { ...good, 'x-forwarded-host': 'public .example.test' }],
        ['host with a backslash', { ...good, 'x-forwarded-host': 'evil.example\\public.example.test' }],
        ['host with a bad port', { ...good, 'x-forwarded-host': 'public.example.test:99999' }],
        ['no uri', { ...good, 'x-forwarded-uri': '' }],
        ['uri not a path', { ...good, 'x-forwarded-uri': 'x' }],
        ['uri absolute', { ...good, 'x-forwarded-uri': 'https://evil.example/' }],
        ['uri protocol-relative', { ...good, 'x-forwarded-uri': '//evil.example/' }],
        ['uri with a space', { ...good, 'x-forwarded-uri': '/a b' }],
        ['uri with a backslash', { ...good, 'x-forwarded-uri': '/\\evil.example' }],
        ['uri too long', { ...good, 'x-forwarded-uri': `/${'a'.repeat(9000)}` }],
        ['uri non-ASCII', { ...good, 'x-forwarded-uri': '/caf\u00e9' }],
      ];
      const ar: [string, Record<string, string>][] = [
        ['no headers', {}],
        ['no url', { 'x-original-method': 'GET' }],
        ['no method', { 'x-original-url': 'https://public.example.test/' }],
        ['relative url', original('/public')],
        ['protocol-relative url', original('//public.example.test/')],
        ['javascript url', original('javascript:alert(1)')],
        ['ftp url', original('ftp://public.example.test/')],
        ['user info', original('https://evil.example@public.example.test/')],
        ['space', original('https://public.example.test/a b')],
        ['backslash', original('https:\\\\public.example.test/')],
        ['two values', original('https://public.example.test/, https://evil.example/')],
        ['bad port', original('https://public.example.test:99999/')],
        ['not a URL', original('https://')],
        ['odd method', original('https://public.example.test/', 'GET /')],
      ];
      const before = await snapshotTables(server.ctx.db);
      for (const [what, headers] of fa) {
        const r = await c.get('/authz/forward-auth', headers);
        assert.equal(r.status, 400, `forward-auth ${what}: ${r.status} ${r.text}`);
        assert.equal(r.json.error.code, 'invalid_forwarded_request', what);
        assert.equal(r.headers.get('remote-user'), null);
      }
      for (const [what, headers] of ar) {
        const r = await c.get('/authz/auth-request', headers);
        assert.equal(r.status, 400, `auth-request ${what}: ${r.status} ${r.text}`);
        assert.equal(r.headers.get('remote-user'), null);
      }
      assert.deepEqual(await snapshotTables(server.ctx.db), before);
    });

    test('SIGHUP reload: a bad file keeps the old rules (and says why), a good one replaces them', async () => {
      const c = server.client();
      writeFileSync(rulesFile, 'default_policy: deny\nrules:\n  - domain: public.example.test\n    polcy: bypass\n');
      const bad = reloadAccessRules(server.ctx);
      assert.equal(bad.ok, false);
      assert.match(!bad.ok ? bad.reason : '', /line 4: unknown key "polcy"/);
      assertAllowed(await forwardAuth(c, 'https://public.example.test/'), null);
      writeFileSync(rulesFile, 'default_policy: deny\nrules:\n  - domain: other.example.test\n    policy: bypass\n');
      assert.deepEqual(reloadAccessRules(server.ctx), { ok: true, rules: 1 });
      assertLogin(await forwardAuth(c, 'https://public.example.test/'), 302, 'https://public.example.test/');
      assertAllowed(await forwardAuth(c, 'https://other.example.test/'), null);
      writeFileSync(rulesFile, RULES);
      assert.equal(reloadAccessRules(server.ctx).ok, true);
    });
  });
}

describe('configuration', () => {
  test('a bad rules file stops the start, naming the line; a cookie domain must cover PUBLIC_URL', async () => {
    const dir = tempDir('twofold-rules-');
    try {
      const file = join(dir.path, 'rules.yml');
      writeFileSync(file, 'rules:\n  - domain: a.example\n    policy: maybe\n');
      await assert.rejects(startTestServer('sqlite', { env: { TWOFOLD_ACCESS_RULES: file } }), /rules\.yml, line 3: .*policy must be one of/);
      await assert.rejects(startTestServer('sqlite', { env: { TWOFOLD_ACCESS_RULES: join(dir.path, 'missing.yml') } }), /cannot read/);
      await assert.rejects(startTestServer('sqlite', { env: { PUBLIC_URL: 'https://auth.example.com', TWOFOLD_COOKIE_DOMAIN: 'example.org' } }), /TWOFOLD_COOKIE_DOMAIN/);
      await assert.rejects(startTestServer('sqlite', { env: { PUBLIC_URL: 'https://auth.example.com', TWOFOLD_COOKIE_DOMAIN: 'https://example.com' } }), /TWOFOLD_COOKIE_DOMAIN/);
    } finally {
      dir.remove();
    }
  });

  test('with a cookie domain the session cookie has Domain and, under https, the __Secure- prefix', async () => {
    const server = await startTestServer('sqlite', { env: { PUBLIC_URL: 'https://auth.example.com', TWOFOLD_COOKIE_DOMAIN: '.Example.com' } });
    try {
      const r = await fetch(`${server.url}${API}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'gail@example.com', password: PASSWORD }) });
      assert.equal(r.status, 201);
      const cookie = r.headers.getSetCookie().find((c) => c.startsWith('__Secure-twofold_session='));
      assert.ok(cookie, r.headers.getSetCookie().join(' | '));
      assert.match(cookie, /; Domain=example\.com/i);
      assert.match(cookie, /; Secure/i);
      assert.match(cookie, /; HttpOnly/i);
      assert.match(cookie, /; SameSite=Lax/i);
      const token = cookie.split(';')[0]!;
      const me = await fetch(`${server.url}${API}/me`, { headers: { cookie: token } });
      assert.equal(me.status, 200);
      // The host-only name is not read any more: it cannot be set with a Domain.
      const hostOnly = await fetch(`${server.url}${API}/me`, { headers: { cookie: token.replace('__Secure-', '__Host-') } });
      assert.equal(hostOnly.status, 401);
    } finally {
      await server.close();
    }
  });
});
