import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { finished, runCli, startCli, tempDir, type RunResult } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

const EMAIL = 'serve@example.com';
const PASSWORD = 'unguessable serve passphrase 7';

async function waitForHealthy(base: string, exited: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (exited()) throw new Error('the server exited before it was ready');
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.status === 200) return Date.now() - start;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`/healthz did not answer 200 within ${timeoutMs} ms`);
}

/**
 * Starts a login whose headers the server has received (it answered `100 Continue`) but whose body
 * is held back: a request that is certainly in flight. `send()` delivers the body.
 */
function inFlightLogin(port: number, body: string): Promise<{ send(): void; answer: Promise<{ status: number; body: string }> }> {
  return new Promise((resolveStarted, rejectStarted) => {
    let resolveAnswer!: (v: { status: number; body: string }) => void;
    let rejectAnswer!: (e: Error) => void;
    const answer = new Promise<{ status: number; body: string }>((res, rej) => {
      resolveAnswer = res;
      rejectAnswer = rej;
    });
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/login',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', connection: 'close' },
    });
    req.on('continue', () => resolveStarted({ send: () => req.end(body), answer }));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (err) => {
      rejectStarted(err);
      rejectAnswer(err);
    });
    req.flushHeaders();
  });
}

describe('twofold serve on a fresh directory', () => {
  const dir = tempDir('twofold-serve-');
  let port = 0;
  let base = '';
  let child: ReturnType<typeof startCli>;
  let result: Promise<RunResult>;
  let exited = false;
  let token = '';

  before(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = startCli(['serve'], { cwd: dir.path, env: { PORT: String(port), LOG_LEVEL: 'info' } });
    result = finished(child);
    void result.then(() => (exited = true));
  });
  after(async () => {
    if (!exited) {
      child.kill('SIGKILL');
      await result;
    }
    dir.remove();
  });

  test('answers /healthz within 10 s, having created data/ (0700), data/secret.key and the database (0600)', async () => {
    await waitForHealthy(base, () => exited, 10_000);
    assert.ok(statSync(join(dir.path, 'data')).isDirectory());
    assert.equal(statSync(join(dir.path, 'data')).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir.path, 'data', 'twofold.db')).mode & 0o777, 0o600);
    const key = statSync(join(dir.path, 'data', 'secret.key'));
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal(Buffer.from(readFileSync(join(dir.path, 'data', 'secret.key'), 'utf8').trim(), 'base64').length, 32);
    assert.ok(existsSync(join(dir.path, 'data', 'twofold.db')));
  });

  test('serves the API: signup, login, me', async () => {
    const c = new Client(base);
    assert.equal((await c.post('/api/v1/signup', { email: EMAIL, password: PASSWORD })).status, 201);
    assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: 'wrong password here' })).status, 401);
    assert.equal((await c.post('/api/v1/login', { email: EMAIL, password: PASSWORD })).status, 200);
    token = c.cookies.get('twofold_session')!;
    assert.ok(token);
    const me = await c.get('/api/v1/me?probe=serve-test');
    assert.equal(me.status, 200);
    assert.equal(me.json.email, EMAIL);
  });

  test('SIGTERM lets in-flight logins finish, then exits 0', async () => {
    const body = JSON.stringify({ email: EMAIL, password: PASSWORD });
    const flights = await Promise.all(Array.from({ length: 4 }, () => inFlightLogin(port, body)));
    child.kill('SIGTERM');
    // The bodies arrive after the signal: the server must still read them and answer.
    for (const f of flights) f.send();
    const answers = await Promise.all(flights.map((f) => f.answer));
    for (const a of answers) {
      assert.equal(a.status, 200, a.body);
      assert.deepEqual(JSON.parse(a.body), { status: 'ok' });
    }
    const r = await result;
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    // The answers were logged after shutdown began: they really were in flight.
    const msgs = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; url?: string });
    const shutdownAt = msgs.findIndex((m) => m.msg === 'shutting down');
    assert.ok(shutdownAt >= 0, 'shutdown was logged');
    const loginsAfter = msgs.slice(shutdownAt).filter((m) => m.msg === 'request' && m.url === '/api/v1/login').length;
    assert.ok(loginsAfter >= 1, `no login finished after SIGTERM (${loginsAfter})`);
  });

  // A bounded wait: if an earlier step failed, the server was never signalled and would never exit.
  test('logs are JSON lines, one per request, with no password, cookie or token', { timeout: 60_000 }, async () => {
    const r = await result;
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.ok(lines.length > 0);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const entries = lines.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        assert.fail(`not a JSON line: ${l}`);
      }
    });
    for (const e of entries) {
      assert.equal(typeof e.level, 'number');
      assert.equal(typeof e.time, 'number');
      assert.equal(typeof e.msg, 'string');
    }
    const requests = entries.filter((e) => e.msg === 'request');
    assert.equal(requests.filter((e) => e.url === '/api/v1/me?probe=serve-test').length, 1, 'one line for one request');
    assert.equal(requests.filter((e) => e.url === '/api/v1/login').length, 2 + 4);
    assert.equal(requests.filter((e) => e.url === '/api/v1/signup').length, 1);
    const me = requests.find((e) => e.url === '/api/v1/me?probe=serve-test');
    assert.equal(me.method, 'GET');
    assert.equal(me.status, 200);
    assert.equal(typeof me.ms, 'number');
    assert.ok(entries.some((e) => e.msg === 'twofold ready'));
    assert.ok(entries.some((e) => e.msg === 'shutting down'));

    const everything = r.stdout + r.stderr;
    assert.ok(!everything.includes(PASSWORD), 'the password is in the log');
    assert.ok(!everything.includes('wrong password here'), 'a wrong password is in the log');
    assert.ok(token && !everything.includes(token), 'the session token is in the log');
    assert.doesNotMatch(everything, /twofold_session=/, 'a cookie is in the log');
    assert.doesNotMatch(everything, /set-cookie/i);
  });
});

describe('twofold serve with PostgreSQL and no TWOFOLD_SECRET', () => {
  const dir = tempDir('twofold-serve-pg-');
  after(() => dir.remove());

  test('exits non-zero naming TWOFOLD_SECRET, without writing a secret file', async () => {
    const port = await freePort();
    const r = await runCli(['serve'], {
      cwd: dir.path,
      env: { PORT: String(port), DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/twofold_never_created' },
      timeoutMs: 20_000,
    });
    assert.notEqual(r.code, 0);
    assert.equal(r.signal, null);
    assert.match(r.stderr, /TWOFOLD_SECRET/);
    assert.match(r.stderr, /PostgreSQL/);
    assert.equal(existsSync(join(dir.path, 'data', 'secret.key')), false);
  });
});
