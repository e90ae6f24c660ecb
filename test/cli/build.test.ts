import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { API, codeAt } from '../helpers/totp.js';

/*
 * `npm start` runs the compiled build. A copy of the project without dist/ (as a fresh clone is
 * before `prepare` ran) starts with `node bin/twofold.mjs serve`: it compiles once, then serves from
 * dist/: pages (JSX), assets (public/), the common-password list (a non-TypeScript file beside the
 * sources) and the API all work from the compiled tree.
 * What runs is the bundle in dist/bundle/: with every other JavaScript file of dist/ removed, it
 * still serves pages, the API, TOTP with its QR code, mail through the outbox, the OpenID provider
 * and the OpenAPI document, so no module it loads on first use went missing from it.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const COPIED = ['src', 'bin', 'scripts', 'public', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

function startBuilt(cwd: string, bin: string, port: number): { child: ChildProcess; stderr: () => string } {
  // No TWOFOLD_RUN_SOURCES: the production path.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn' };
  const child = spawn(process.execPath, [bin, 'serve'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return { child, stderr: () => stderr };
}

async function healthy(base: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('/healthz never answered');
}

/** Every .js file of dist/ outside dist/bundle/: what the bundle must not need. */
function removeUnbundled(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) n += entry.name === 'bundle' ? 0 : removeUnbundled(p);
    else if (entry.name.endsWith('.js')) {
      rmSync(p);
      n++;
    }
  }
  return n;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

describe('the compiled build', () => {
  const project = tempDir('twofold-build-');
  const work = tempDir('twofold-run-');
  let running: ChildProcess | undefined;

  before(() => {
    for (const name of COPIED) cpSync(join(ROOT, name), join(project.path, name), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(project.path, 'node_modules'), 'dir');
  });
  after(async () => {
    if (running) await stop(running);
    project.remove();
    work.remove();
  });

  test('a copy without dist/ compiles on first start, then serves from dist/', { timeout: 180_000 }, async () => {
    assert.equal(existsSync(join(project.path, 'dist')), false);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = startBuilt(work.path, join(project.path, 'bin/twofold.mjs'), port);
    running = first.child;
    await healthy(base, first.child, 150_000);
    assert.match(first.stderr(), /compiling the sources into dist/);
    assert.ok(existsSync(join(project.path, 'dist/cli/main.js')));
    assert.ok(existsSync(join(project.path, 'dist/core/common-passwords.txt')), 'non-TypeScript files are copied beside the code');
    assert.deepEqual(readdirSync(project.path).filter((n) => n.startsWith('dist.')), [], 'no build leftovers');

    const c = new Client(base);
    const page = await c.get('/login');
    assert.equal(page.status, 200);
    assert.match(page.text, /<form/);
    const css = page.text.match(/href="(\/assets\/styles\.css\?v=[^"]+)"/);
    assert.ok(css, 'the page links its stylesheet');
    assert.equal((await c.get(css[1]!)).status, 200);

    const common = await c.post('/api/v1/signup', { email: 'built@example.com', password: 'password123' });
    assert.equal(common.status, 400);
    assert.equal(common.json.error.code, 'password_too_common', 'the word list is read from dist/');
    assert.equal((await c.post('/api/v1/signup', { email: 'built@example.com', password: 'a compiled passphrase 9' })).status, 201);
    const me = await c.get('/api/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.json.email, 'built@example.com');
    await stop(first.child);

    // Built and up to date: the next start compiles nothing, and runs the bundle alone.
    assert.ok(existsSync(join(project.path, 'dist/bundle/main.js')), 'the build bundles');
    assert.ok(removeUnbundled(join(project.path, 'dist')) > 100);
    const second = startBuilt(work.path, join(project.path, 'bin/twofold.mjs'), port);
    running = second.child;
    await healthy(base, second.child, 30_000);
    assert.doesNotMatch(second.stderr(), /compiling/);

    const b = new Client(base);
    const login = await b.get('/login');
    assert.equal(login.status, 200);
    assert.equal((await b.get(login.text.match(/href="(\/assets\/styles\.css\?v=[^"]+)"/)![1]!)).status, 200);
    assert.equal((await b.post(`${API}/signup`, { email: 'bundled@example.com', password: 'password123' })).json.error.code, 'password_too_common');
    assert.equal((await b.post(`${API}/login`, { email: 'built@example.com', password: 'a compiled passphrase 9' })).status, 200);

    // TOTP setup (otpauth, the QR code) and a login with its second step.
    const setup = await b.post(`${API}/me/two-factor/totp/setup`);
    assert.equal(setup.status, 200, setup.text);
    assert.match(setup.json.qrCodeSvg, /^<svg/);
    const confirm = await b.post(`${API}/me/two-factor/totp/confirm`, { code: codeAt(setup.json.secret, Date.now()) });
    assert.equal(confirm.status, 200, confirm.text);
    assert.equal((await b.post(`${API}/logout`)).status, 204);
    const pending = await b.post(`${API}/login`, { email: 'built@example.com', password: 'a compiled passphrase 9' });
    assert.equal(pending.json.status, 'two_factor_required', pending.text);
    const second2fa = await b.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(setup.json.secret, Date.now() + 30_000) });
    assert.equal(second2fa.status, 200, second2fa.text);

    // Mail: the outbox renders and delivers (nodemailer) into the mail directory.
    assert.equal((await b.post(`${API}/password/forgot`, { email: 'built@example.com' })).status, 202);
    const mailDir = join(work.path, 'data/mail');
    await waitFor('a mail file', () => (existsSync(mailDir) && readdirSync(mailDir).some((n) => n.endsWith('.eml')) ? true : undefined));

    // The OpenID provider (loaded on first use) and the OpenAPI document.
    const discovery = await b.get('/.well-known/openid-configuration');
    assert.equal(discovery.status, 200, discovery.text);
    assert.equal(discovery.json.issuer, base);
    const openapi = await b.get(`${API}/openapi.json`);
    assert.equal(openapi.status, 200);
    assert.ok(openapi.json.paths[`${API}/me`]);
    assert.equal(second.child.exitCode, null);
  });
});
