import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { finished, runCli, startCli, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

const GOOD = 'default_policy: deny\nrules:\n  - domain: public.example.test\n    policy: bypass\n';
const OTHER = 'default_policy: deny\nrules:\n  - domain: other.example.test\n    policy: bypass\n';
const BAD = 'default_policy: deny\nrules:\n  - domain: other.example.test\n    polcy: bypass\n';

function ask(base: string, host: string) {
  return fetch(`${base}/authz/forward-auth`, {
    redirect: 'manual',
    headers: { 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': host, 'x-forwarded-uri': '/' },
  }).then((r) => r.status);
}

/** Waits until `check` holds (a log line, an answer), polling; gives up after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('twofold serve with TWOFOLD_ACCESS_RULES', () => {
  const dir = tempDir('twofold-rules-serve-');
  after(() => dir.remove());

  test('a bad file stops the start, naming the file, the line and the reason', async () => {
    const file = join(dir.path, 'bad.yml');
    writeFileSync(file, BAD);
    const r = await runCli(['serve'], { cwd: dir.path, env: { PORT: String(await freePort()), TWOFOLD_ACCESS_RULES: file }, timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bad\.yml, line 4: unknown key "polcy"/);
  });

  test('SIGHUP reloads the file; a bad file keeps the rules in force and the log says why', async () => {
    const file = join(dir.path, 'rules.yml');
    writeFileSync(file, GOOD);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = startCli(['serve'], { cwd: dir.path, env: { PORT: String(port), TWOFOLD_ACCESS_RULES: file, LOG_LEVEL: 'info' } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const done = finished(child);
    try {
      await until('the service', async () => (await ask(base, 'public.example.test')) === 200);

      writeFileSync(file, BAD);
      child.kill('SIGHUP');
      await until('the refusal in the log', () => out.includes('access rules not reloaded'));
      assert.match(out, /rules\.yml, line 4: unknown key \\"polcy\\"/);
      assert.equal(await ask(base, 'public.example.test'), 200, 'the old rules stay');

      writeFileSync(file, OTHER);
      child.kill('SIGHUP');
      await until('the reload in the log', () => out.includes('access rules reloaded'));
      assert.equal(await ask(base, 'other.example.test'), 200);
      assert.equal(await ask(base, 'public.example.test'), 302);
    } finally {
      child.kill('SIGTERM');
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
    }
  });
});
