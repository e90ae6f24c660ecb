/**
 * Forward authentication end to end: Debian's nginx (auth_request) and caddy (forward_auth) in
 * front of an upstream app, Twofold deciding, and Chromium logging in — with test domains under
 * twofold.test mapped to 127.0.0.1, so the session cookie really is shared across subdomains.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumAvailable, newContext, newPage } from '../browser/harness.js';
import { manualClock } from '../../src/core/clock.js';
import { tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hasCommand, requireTool } from '../helpers/tools.js';
import { API, oathtool, PASSWORD } from '../helpers/totp.js';
import { caddyConfig, nginxConfig, startCaddy, startNginx, startUpstream, type Proxy, type Upstream } from './proxies.js';

const RULES = `
default_policy: deny
rules:
  - domain: public.twofold.test
    policy: bypass
  - domain: secure.twofold.test
    policy: two_factor
  - domain: fresh.twofold.test
    policy: one_factor
    fresh: 5m
  - domain: "*.twofold.test"
    policy: one_factor
`;

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

function nginxAvailable(t: TestContext): boolean {
  return requireTool(t, NGINX !== undefined, 'nginx (Debian package `nginx`)');
}
function caddyAvailable(t: TestContext): boolean {
  return requireTool(t, hasCommand('caddy'), 'caddy (Debian package `caddy`)');
}

interface Seen {
  host: string;
  url: string;
  remoteUser: string | null;
  remoteEmail: string | null;
  remoteGroups: string | null;
  identityHeaders: string[];
}

async function seenBy(page: Page): Promise<Seen> {
  return JSON.parse((await page.textContent('body')) ?? '{}') as Seen;
}

/** A request as a client would send it, with any Host and headers (fetch may not set Host). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; location: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function logIn(page: Page, email: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

describe('forward auth behind real nginx and caddy', () => {
  const dir = tempDir('twofold-e2e-');
  let server: TestServer | undefined;
  let upstream: Upstream | undefined;
  let nginx: Proxy | undefined;
  let caddy: Proxy | undefined;
  let browser: Browser | undefined;
  let publicUrl = '';
  const clock = manualClock(Date.now());

  before(async () => {
    const port = await freePort();
    publicUrl = `http://auth.twofold.test:${port}`;
    const rules = join(dir.path, 'rules.yml');
    writeFileSync(rules, RULES);
    server = await startTestServer('sqlite', {
      port,
      // Step-up freshness is tested by moving this clock, never by sleeping; codes follow it.
      clock,
      env: { PUBLIC_URL: publicUrl, TWOFOLD_COOKIE_DOMAIN: 'twofold.test', TWOFOLD_ACCESS_RULES: rules },
    });
    upstream = await startUpstream();
  });
  after(async () => {
    await browser?.close();
    await nginx?.stop();
    await caddy?.stop();
    await upstream?.close();
    await server?.close();
    dir.remove();
  });

  async function proxy(t: TestContext, which: 'nginx' | 'caddy'): Promise<Proxy | null> {
    const twofold = `http://127.0.0.1:${server!.config.port}`;
    const app = `http://127.0.0.1:${upstream!.port}`;
    if (which === 'nginx') {
      if (!nginxAvailable(t)) return null;
      nginx ??= await startNginx(NGINX!, join(dir.path, 'nginx'), await freePort(), twofold, app);
      return nginx;
    }
    if (!caddyAvailable(t)) return null;
    caddy ??= await startCaddy(join(dir.path, 'caddy'), await freePort(), twofold, app);
    return caddy;
  }

  async function openBrowser(t: TestContext): Promise<Browser | null> {
    if (!requireTool(t, chromiumAvailable(), `Chromium at ${CHROMIUM} (Debian package \`chromium\`)`)) return null;
    browser ??= await chromium.launch({
      executablePath: CHROMIUM,
      // Every test domain is this machine; nothing is resolved or reached outside loopback.
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP *.twofold.test 127.0.0.1, EXCLUDE localhost'],
      headless: true,
    });
    return browser;
  }

  async function signup(email: string) {
    const r = await server!.client().post(`${API}/signup`, { email, password: PASSWORD });
    assert.equal(r.status, 201, r.text);
  }

  test('log in once through nginx, be signed in behind caddy too; the upstream sees Remote-* from Twofold', async (t) => {
    const n = await proxy(t, 'nginx');
    const c = await proxy(t, 'caddy');
    const b = n && c ? await openBrowser(t) : null;
    if (!n || !c || !b) return;
    await signup('sso@twofold.test');
    await server!.ctx.store.db.insertInto('user_groups').values({ user_id: (await server!.ctx.db.selectFrom('users').select('id').where('email_normalized', '=', 'sso@twofold.test').executeTakeFirstOrThrow()).id, name: 'staff', created_at: 1 }).execute();
    const context = await newContext(b);
    const page = await newPage(context);
    try {
      const target = `http://app.twofold.test:${n.port}/wiki/page?x=1`;
      await page.goto(target);
      // nginx turned the 401 into a redirect to the login page, which carries the original URL.
      assert.equal(new URL(page.url()).origin, publicUrl);
      assert.equal(new URL(page.url()).pathname, '/login');
      await logIn(page, 'sso@twofold.test');
      await page.waitForURL(target);
      let seen = await seenBy(page);
      assert.equal(seen.remoteUser, 'sso@twofold.test');
      assert.equal(seen.remoteEmail, 'sso@twofold.test');
      assert.equal(seen.remoteGroups, 'staff');
      assert.equal(seen.url, '/wiki/page?x=1');

      // Caddy: the same session cookie (Domain=twofold.test) signs the person in at once.
      const other = `http://wiki.twofold.test:${c.port}/start`;
      await page.goto(other);
      assert.equal(page.url(), other);
      seen = await seenBy(page);
      assert.equal(seen.remoteUser, 'sso@twofold.test');
      assert.equal(seen.remoteGroups, 'staff');

      // Logging out ends it everywhere.
      await page.goto(`${publicUrl}/settings`);
      await page.getByRole('button', { name: 'Log out' }).first().click();
      await page.goto(other);
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(new URL(page.url()).searchParams.get('rd'), other);
    } finally {
      await context.close();
    }
  });

  test('caddy: not signed in → login → back to the app; an rd to another site is ignored', async (t) => {
    const c = await proxy(t, 'caddy');
    const b = c ? await openBrowser(t) : null;
    if (!c || !b) return;
    await signup('caddy@twofold.test');
    const context = await newContext(b);
    const page = await newPage(context);
    try {
      const target = `http://app.twofold.test:${c.port}/dashboard`;
      await page.goto(target);
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(new URL(page.url()).searchParams.get('rd'), target);
      await logIn(page, 'caddy@twofold.test');
      await page.waitForURL(target);
      assert.equal((await seenBy(page)).remoteUser, 'caddy@twofold.test');

      // An rd that is not ours leads to the person's settings, not away.
      await page.goto(`${publicUrl}/login?rd=${encodeURIComponent('http://evil.example/')}`);
      assert.equal(new URL(page.url()).origin, publicUrl);
      assert.equal(new URL(page.url()).pathname, '/settings');
    } finally {
      await context.close();
    }
  });

  test('step-up through nginx: two_factor sends a person without 2FA to set it up, then back', async (t) => {
    const n = await proxy(t, 'nginx');
    const b = n && hasCommand('oathtool') ? await openBrowser(t) : null;
    if (!requireTool(t, hasCommand('oathtool'), 'oathtool (Debian package `oathtool`)')) return;
    if (!n || !b) return;
    await signup('stepup@twofold.test');
    const context = await newContext(b);
    const page = await newPage(context);
    try {
      const plain = `http://app.twofold.test:${n.port}/`;
      await page.goto(plain);
      await logIn(page, 'stepup@twofold.test');
      await page.waitForURL(plain);

      const secure = `http://secure.twofold.test:${n.port}/admin`;
      await page.goto(secure);
      // Signed in, but without a second factor: asked to set one up.
      await page.getByRole('heading', { name: 'Two-factor authentication needed' }).waitFor();
      await page.getByRole('button', { name: 'Setup two-factor authentication' }).click();
      const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);
      await page.getByLabel('Verification code').fill(oathtool(secret, clock.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Done' }).click();
      await page.waitForURL(secure);
      assert.equal((await seenBy(page)).remoteUser, 'stepup@twofold.test');
    } finally {
      await context.close();
    }
  });

  test('step-up through caddy: fresh sends a person whose login is too old to confirm it is them, then back', async (t) => {
    const c = await proxy(t, 'caddy');
    const b = c ? await openBrowser(t) : null;
    if (!c || !b) return;
    await signup('fresh@twofold.test');
    const context = await newContext(b);
    const page = await newPage(context);
    try {
      const target = `http://fresh.twofold.test:${c.port}/vault`;
      await page.goto(target);
      await logIn(page, 'fresh@twofold.test');
      await page.waitForURL(target);
      clock.advance(6 * 60_000);
      await page.goto(`http://fresh.twofold.test:${c.port}/vault?again=1`);
      await page.getByRole('heading', { name: 'Confirm it’s you' }).waitFor();
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.waitForURL(`http://fresh.twofold.test:${c.port}/vault?again=1`);
      assert.equal((await seenBy(page)).remoteUser, 'fresh@twofold.test');
    } finally {
      await context.close();
    }
  });

  test('a Remote-User sent by the client never reaches the upstream, signed in or not', async (t) => {
    const n = await proxy(t, 'nginx');
    const c = await proxy(t, 'caddy');
    if (!n || !c) return;
    await signup('honest@twofold.test');
    const login = server!.client();
    assert.equal((await login.post(`${API}/login`, { email: 'honest@twofold.test', password: PASSWORD })).status, 200);
    const cookie = login.cookieHeader();
    const forged = { 'remote-user': 'mallory@evil.example', 'remote-email': 'mallory@evil.example', 'remote-groups': 'admins', remote_user: 'mallory@evil.example' };
    for (const p of [n, c]) {
      // Through a bypass rule: Twofold names nobody, and the forged headers are gone.
      let r = await rawGet(p.port, '/', { host: `public.twofold.test:${p.port}`, ...forged });
      assert.equal(r.status, 200, `${p.name}: ${r.body}`);
      let seen = JSON.parse(r.body) as Seen;
      assert.ok(!seen.remoteUser && !seen.remoteEmail && !seen.remoteGroups, `${p.name} bypass: ${r.body}`);
      assert.ok(!r.body.includes('mallory'), `${p.name} bypass: ${r.body}`);
      // Signed in: Twofold's values win.
      r = await rawGet(p.port, '/x', { host: `app.twofold.test:${p.port}`, cookie, ...forged });
      assert.equal(r.status, 200, `${p.name}: ${r.body}`);
      seen = JSON.parse(r.body) as Seen;
      assert.equal(seen.remoteUser, 'honest@twofold.test', p.name);
      assert.ok(!r.body.includes('mallory'), `${p.name} signed in: ${r.body}`);
      // Not signed in: never reaches the upstream at all.
      r = await rawGet(p.port, '/x', { host: `app.twofold.test:${p.port}`, ...forged });
      assert.equal(r.status, 302, `${p.name}: ${r.body}`);
      assert.ok(r.location?.startsWith(`${publicUrl}/login?rd=`), `${p.name}: ${r.location}`);
      assert.ok(!r.body.includes('mallory'), p.name);
    }
  });
});

describe('the README configurations are the tested ones', () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const block = (lang: string) => {
    const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme);
    assert.ok(m, `README has a ${lang} block`);
    return m[1]!;
  };
  /** Directive lines that carry the protocol, with the README's addresses made the test's. */
  const directives = (text: string, pattern: RegExp) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => pattern.test(l))
      .map((l) => l.replace(/\s+#.*$/, '').replace('http://127.0.0.1:3000', 'TWOFOLD').replace('127.0.0.1:3000', 'TWOFOLD').replace('http://127.0.0.1:8080', 'APP').replace('127.0.0.1:8080', 'APP'));

  test('nginx: every auth_request, header and redirect directive of the README is in the tested configuration', () => {
    const wanted = directives(block('nginx'), /^(internal|auth_request|error_page|proxy_set_header|proxy_pass|proxy_pass_request_body|location)/);
    const tested = nginxConfig('/tmp/x', 1, 'TWOFOLD', 'APP');
    assert.ok(wanted.length >= 15, wanted.join('\n'));
    for (const line of wanted) assert.ok(tested.includes(line), `README line not in the tested nginx configuration: ${line}`);
  });

  test('caddy: the README route is the tested one', () => {
    const wanted = directives(block('caddyfile'), /^(route|request_header|forward_auth|uri|copy_headers|reverse_proxy)/);
    const tested = caddyConfig(1, 'http://TWOFOLD', 'http://APP');
    assert.ok(wanted.length >= 7, wanted.join('\n'));
    for (const line of wanted) assert.ok(tested.includes(line), `README line not in the tested Caddyfile: ${line}`);
  });
});
