import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { finished, startCli, tempDir, type RunResult } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

const PASSWORD = 'unguessable shutdown passphrase 9';
const LOGINS = 150;
// Real accounts get at most 10 concurrent password checks each (SPEC §3 claims them up front), so
// the load is spread: 5 accounts x 10 right passwords, and 100 unknown addresses (a decoy check each).
const ACCOUNTS = Array.from({ length: 5 }, (_, i) => `shutdown-${i}@example.com`);
const loginBody = (i: number) =>
  JSON.stringify(i < 50 ? { email: ACCOUNTS[i % 5], password: PASSWORD } : { email: `unknown-${i}@example.com`, password: PASSWORD });

interface Answer {
  status: number;
  body: string;
  connection: string | undefined;
  error?: string;
}

/** One login over a keep-alive agent, as a browser or an API client would send it. */
function login(agent: Agent, port: number, body: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpRequest({
      agent,
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/login',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: res.statusCode ?? 0, body: text, connection: undefined, error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, body: '', connection: undefined, error: err.code ?? err.message }));
    req.end(body);
  });
}

async function waitForHealthy(base: string, exited: () => boolean): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < 20_000) {
    if (exited()) throw new Error('the server exited before it was ready');
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('/healthz did not answer');
}

describe('SIGTERM under load (150 concurrent logins)', () => {
  const dir = tempDir('twofold-shutdown-');
  let child: ReturnType<typeof startCli>;
  let result: Promise<RunResult>;
  let exited = false;
  let port = 0;

  before(async () => {
    port = await freePort();
    // The per-IP limit would answer most of these 429; this test is about the shutdown.
    child = startCli(['serve'], {
      cwd: dir.path,
      env: {
        PORT: String(port),
        LOG_LEVEL: 'warn',
        TWOFOLD_AUTH_RATE_LIMIT: '100000',
        // As many hashes at once as libuv's pool runs: this test is about shutdown, and with the
        // default cap (cores - 1, so 1 on a 2-core CI machine) 130 queued logins outlast the grace.
        TWOFOLD_HASH_CONCURRENCY: '4',
      },
    });
    result = finished(child);
    void result.then(() => (exited = true));
    const base = `http://127.0.0.1:${port}`;
    await waitForHealthy(base, () => exited);
    for (const email of ACCOUNTS) assert.equal((await new Client(base).post('/api/v1/signup', { email, password: PASSWORD })).status, 201);
  });
  after(async () => {
    if (!exited) {
      child.kill('SIGKILL');
      await result;
    }
    dir.remove();
  });

  test('no connection is reset, every answer is whole and says Connection: close, and the process exits within 10 s', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
    let done = 0;
    let signalledAt = 0;
    let resolveMidway!: () => void;
    const midway = new Promise<void>((r) => (resolveMidway = r));
    const answers = Array.from({ length: LOGINS }, (_, i) =>
      login(agent, port, loginBody(i)).then((a) => {
        done++;
        if (done === 20) resolveMidway();
        return a;
      }),
    );
    await midway;
    signalledAt = Date.now();
    child.kill('SIGTERM');
    const all = await Promise.all(answers);
    const r = await result;
    const exitMs = Date.now() - signalledAt;
    agent.destroy();

    const failed = all.filter((a) => a.error);
    assert.deepEqual(failed.map((a) => a.error), [], `${failed.length} of ${LOGINS} logins failed`);
    all.forEach((a, i) => {
      if (i < 50) {
        assert.equal(a.status, 200, a.body);
        assert.deepEqual(JSON.parse(a.body), { status: 'ok' });
      } else {
        assert.equal(a.status, 401, a.body);
        assert.equal(JSON.parse(a.body).error.code, 'invalid_credentials');
      }
    });
    // Answers sent after the signal tell the client not to reuse the connection.
    const closing = all.filter((a) => a.connection === 'close').length;
    assert.ok(closing >= LOGINS / 2, `only ${closing} answers said Connection: close`);
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(exitMs < 10_000, `the process took ${exitMs} ms to exit`);
  });
});
