import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

/*
 * `npm start` runs the compiled build. A copy of the project without dist/ (as a fresh clone is
 * before `prepare` ran) starts with `node bin/twofold.mjs serve`: it compiles once, then serves from
 * dist/: pages (JSX), assets (public/), the common-password list (a non-TypeScript file beside the
 * sources) and the API all work from the compiled tree.
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

    // Built and up to date: the next start compiles nothing.
    const second = startBuilt(work.path, join(project.path, 'bin/twofold.mjs'), port);
    running = second.child;
    await healthy(base, second.child, 30_000);
    assert.doesNotMatch(second.stderr(), /compiling/);
    assert.equal((await new Client(base).get('/healthz')).status, 200);
  });
});
