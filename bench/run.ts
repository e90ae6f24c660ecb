/**
 * Figures for the hot paths, printed, never asserted:
 *   npm run bench                (SQLite; PostgreSQL too when TWOFOLD_TEST_DATABASE_URL is set)
 * - the session check (GET /api/v1/me) under concurrent load over keep-alive connections
 * - TOTP verification and recovery-code normalization in the domain
 * - argon2id password hashing (what a login costs)
 * - resident memory after the load
 */
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import { hashPassword } from '../src/core/password.js';
import { generateTotpSecret, totpStep, totpCode, verifyTotp } from '../src/core/totp.js';
import { cryptoRandom } from '../src/core/random.js';
import { normalizeRecoveryCode } from '../src/core/recovery-codes.js';
import { startTestServer } from '../test/helpers/server.js';
import type { DbKind } from '../test/helpers/databases.js';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function loadSessionCheck(kind: DbKind): Promise<void> {
  const server = await startTestServer(kind);
  try {
    const c = server.client();
    const r = await c.post('/api/v1/signup', { email: 'bench@example.com', password: 'a long bench password' });
    if (r.status !== 201) throw new Error(`signup failed: ${r.status}`);
    const cookie = c.cookieHeader();
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(`${server.url}/api/v1/me`, { agent, headers: { cookie } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
      });
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + DURATION_MS;
    const worker = async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        if ((await get()) !== 200) errors++;
        latencies.push(performance.now() - t0);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      `${kind.padEnd(8)} GET /api/v1/me  ${(latencies.length / seconds).toFixed(0).padStart(6)} req/s  ` +
        `p50 ${percentile(latencies, 50).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms  ` +
        `errors ${errors}  (${CONCURRENCY} connections, ${seconds.toFixed(1)} s, client and server in one process)`,
    );
    agent.destroy();
  } finally {
    await server.close();
  }
}

function timeOp(label: string, n: number, fn: () => void): void {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(`${label.padEnd(40)} ${us.toFixed(1).padStart(8)} µs/op`);
}

async function main(): Promise<void> {
  const secret = generateTotpSecret(cryptoRandom);
  const now = Date.now();
  const code = totpCode(secret, totpStep(now));
  timeOp('verifyTotp (3 steps, constant time)', 20_000, () => void verifyTotp(secret, code, now, null));
  timeOp('normalizeRecoveryCode', 200_000, () => void normalizeRecoveryCode('ABCD-efgh-2345-jkmn'));
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) await hashPassword('correct horse battery staple');
  console.log(`${'argon2id hash (m=19 MiB, t=2, p=1)'.padEnd(40)} ${((performance.now() - t0) / 10).toFixed(1).padStart(8)} ms/op`);

  await loadSessionCheck('sqlite');
  if (process.env.TWOFOLD_TEST_DATABASE_URL) await loadSessionCheck('postgres');
  else console.log('postgres  skipped: set TWOFOLD_TEST_DATABASE_URL to include it');
  console.log(`rss after load: ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);
}

await main();
