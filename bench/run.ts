/**
 * Figures for the hot paths, printed, never asserted:
 *   npm run bench                (SQLite; PostgreSQL too when TWOFOLD_TEST_DATABASE_URL is set)
 * - the session check (GET /api/v1/me) under concurrent load over keep-alive connections
 * - the forward-auth decision (GET /authz/forward-auth: session, groups, 25 compiled rules), the same way
 * - TOTP verification and recovery-code normalization in the domain
 * - argon2id password hashing (what a login costs)
 * - resident memory after the load
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decide, parseAccessRules } from '../src/core/access-rules.js';
import { addGroups } from '../src/store/groups.js';
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

/** 24 rules that do not match the benchmarked host, then the one that does: a realistic walk. */
const BENCH_RULES = `default_policy: deny
rules:
${Array.from({ length: 24 }, (_, i) => `  - domain: ["app${i}.example.com", "*.team${i}.example.com"]\n    resources: ["^/admin/${i}"]\n    subject: ["group:team${i}"]\n    policy: two_factor\n`).join('')}  - domain: "*.example.com"
    subject: [group:staff]
    policy: one_factor
`;

const FORWARDED = { 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'wiki.example.com', 'x-forwarded-uri': '/page?x=1' };

async function loadSessionCheck(kind: DbKind, what: 'me' | 'forward-auth' = 'me'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-bench-'));
  const rules = join(dir, 'rules.yml');
  writeFileSync(rules, BENCH_RULES);
  const server = await startTestServer(kind, what === 'forward-auth' ? { env: { TWOFOLD_ACCESS_RULES: rules } } : {});
  const path = what === 'me' ? '/api/v1/me' : '/authz/forward-auth';
  try {
    const c = server.client();
    const r = await c.post('/api/v1/signup', { email: 'bench@example.com', password: 'a long bench password' });
    if (r.status !== 201) throw new Error(`signup failed: ${r.status}`);
    const id = (await server.ctx.db.selectFrom('users').select('id').executeTakeFirstOrThrow()).id;
    await addGroups(server.ctx.db, id, ['staff', 'team3', 'readers'], Date.now());
    const cookie = c.cookieHeader();
    const headers = what === 'me' ? { cookie } : { cookie, ...FORWARDED };
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(`${server.url}${path}`, { agent, headers }, (res) => {
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
      `${kind.padEnd(8)} GET ${path.padEnd(19)} ${(latencies.length / seconds).toFixed(0).padStart(6)} req/s  ` +
        `p50 ${percentile(latencies, 50).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms  ` +
        `errors ${errors}  (${CONCURRENCY} connections, ${seconds.toFixed(1)} s, client and server in one process)`,
    );
    agent.destroy();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
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

  const compiled = parseAccessRules(BENCH_RULES);
  const who = { email: 'bench@example.com', groups: ['staff', 'team3', 'readers'], secondFactor: false, authenticatedAt: now };
  timeOp('access rules: decide (25 rules, in memory)', 200_000, () => void decide(compiled, { host: 'wiki.example.com', path: '/page?x=1', method: 'GET' }, who, now));

  await loadSessionCheck('sqlite');
  await loadSessionCheck('sqlite', 'forward-auth');
  if (process.env.TWOFOLD_TEST_DATABASE_URL) {
    await loadSessionCheck('postgres');
    await loadSessionCheck('postgres', 'forward-auth');
  }
  else console.log('postgres  skipped: set TWOFOLD_TEST_DATABASE_URL to include it');
  console.log(`rss after load: ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);
}

await main();
