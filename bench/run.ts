/**
 * npm run bench — Twofold against the floor (bench/floor.ts), side by side in one run, each server
 * its own process, load from an external generator (bench/load.mjs: wrk when installed, else
 * autocannon). Prints throughput, latencies, ratios to the floor, start time and memory. Figures to
 * compare, never assertions.
 *
 *   BENCH_SECONDS (5)      length of each measurement     BENCH_CONNECTIONS (50)  concurrent connections
 *   BENCH_ACCOUNTS (1e6)   accounts of the scale check    BENCH_LOADGEN=autocannon  even when wrk is there
 *   BENCH_TWOFOLD=<dir>    a Twofold checkout to measure instead of this one (before/after figures)
 *   BENCH_ROUNDS (3)       alternating floor/Twofold rounds of the session check on the big database
 *   TWOFOLD_TEST_DATABASE_URL  also PostgreSQL (a database is created and dropped)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type { Algorithm } from '@node-rs/argon2';
import { freePort } from '../test/helpers/ports.js';
import { createSecretBox } from '../src/core/secret-box.js';
import { BENCH_PASSWORD, BENCH_TOTP_SECRET, emailOf, knownDeviceOf, lastSeenPostgres, lastSeenSqlite, pendingPostgres, pendingSqlite, seedPostgres, seedSqlite, tokenOf } from './seed.js';
import { totpCode, totpStep } from '../src/core/totp.js';
import { defaultHashConcurrency } from '../src/core/password.js';

const ROOT = resolve(import.meta.dirname, '..');
const TWOFOLD = resolve(process.env.BENCH_TWOFOLD ?? ROOT);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Alternating floor/Twofold rounds of the session check on the big database (headToHead). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1_000_000);
const SMALL = 1_000;
/** TOTP accounts: a slice for the floor and one per Twofold database; each pending login is used once. */
const TOTP_SLICE = Math.min(Number(process.env.BENCH_TOTP_ACCOUNTS ?? 60_000), Math.floor(ACCOUNTS / 3));
const PG_ADMIN = process.env.TWOFOLD_TEST_DATABASE_URL;
const SECRET = randomBytes(32);
const tmp = mkdtempSync(join(tmpdir(), 'twofold-bench-'));

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  tool: string;
}

/** A file of Cookie headers, one per line, for the load generator. */
function cookieLines(name: string, lines: string[]): string {
  const file = join(tmp, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const cookieFile = (name: string, tokens: string[]) => cookieLines(name, tokens.map((t) => `twofold_session=${t}`));

function load(o: { url: string; method: string; body?: string; headers?: Record<string, string>; cookies: string; pick: 'random' | 'sequential'; seconds?: number }): Promise<Load> {
  const child = spawn(process.execPath, [join(ROOT, 'bench/load.mjs'), JSON.stringify({ seconds: SECONDS, connections: CONNECTIONS, ...o })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((res, rej) => child.on('close', (code) => (code === 0 ? res(JSON.parse(out.trim().split('\n').at(-1)!)) : rej(new Error(`load generator exited ${code}`)))));
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resident memory once the process has sat idle: V8 gives back the young generation that start-up
 * filled (its memory reducer runs some 10–30 s after the last full collection), so a reading taken
 * a second after start overstates what an idle server holds. Polls for up to 60 s and returns the
 * lowest reading, early once a fall has held for 5 s.
 */
async function settledRss(pid: number): Promise<{ mb: number; seconds: number }> {
  const start = performance.now();
  const first = rssMb(pid);
  let low = first;
  let lowAt = start;
  while (performance.now() - start < 60_000) {
    await sleep(500);
    const now = rssMb(pid);
    if (now < low - 0.5) {
      low = now;
      lowAt = performance.now();
    }
    if (first - low > 5 && performance.now() - lowAt > 5_000) break;
  }
  return { mb: low, seconds: (lowAt - start) / 1000 };
}

interface Server {
  child: ChildProcess;
  url: string;
  startMs: number;
  stop(): Promise<void>;
}

/** `wrap` runs Node under another command (taskset). */
async function startProcess(args: string[], env: Record<string, string>, health: string, wrap: string[] = []): Promise<Server> {
  const port = await freePort();
  const t0 = performance.now();
  const [command, ...rest] = [...wrap, process.execPath, ...args];
  const child = spawn(command!, rest, {
    cwd: tmp,
    env: { PATH: process.env.PATH!, HOME: tmp, NODE_ENV: 'production', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url + health)).status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(2);
  }
  const startMs = performance.now() - t0;
  return {
    child,
    url,
    startMs,
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** Access rules for the forward-auth decision: a few rules before the one that allows. */
const RULES_FILE = join(mkdtempSync(join(tmpdir(), 'twofold-bench-rules-')), 'rules.yaml');
writeFileSync(
  RULES_FILE,
  [
    'default_policy: deny',
    'rules:',
    '  - domain: public.bench.test',
    '    policy: bypass',
    '  - domain: "*.bench.test"',
    '    resources: ["^/healthz$"]',
    '    policy: bypass',
    '  - domain: admin.bench.test',
    '    subject: ["group:admins"]',
    '    policy: two_factor',
    '  - domain: [app.bench.test, wiki.bench.test]',
    '    policy: one_factor',
    '',
  ].join('\n'),
);

const startTwofold = (databaseUrl: string, extra: Record<string, string> = {}, wrap: string[] = []) =>
  startProcess(
    [join(TWOFOLD, 'bin/twofold.mjs'), 'serve'],
    {
      DATABASE_URL: databaseUrl,
      TWOFOLD_ACCESS_RULES: RULES_FILE,
      TWOFOLD_SECRET: SECRET.toString('base64'),
      TWOFOLD_AUTH_RATE_LIMIT: '1000000',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      ...extra,
    },
    '/healthz',
    wrap,
  );

/** taskset (util-linux), to run a server on one core; without it that measurement is skipped. */
const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).error === undefined;

/** The floor server (bench/floor.ts) over the big SQLite database, and PostgreSQL when given. */
const startFloor = (env: { FLOOR_DB: string; FLOOR_PG_URL?: string }) =>
  startProcess(['--import', import.meta.resolve('tsx'), join(ROOT, 'bench/floor.ts')], { ...env, TWOFOLD_SECRET: SECRET.toString('base64') }, '/healthz');

async function migrate(databaseUrl: string): Promise<void> {
  const child = spawn(process.execPath, [join(TWOFOLD, 'bin/twofold.mjs'), 'migrate'], {
    cwd: tmp,
    env: { PATH: process.env.PATH!, HOME: tmp, DATABASE_URL: databaseUrl, TWOFOLD_SECRET: SECRET.toString('base64') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await new Promise<void>((res, rej) => child.on('close', (c) => (c === 0 ? res() : rej(new Error(`migrate exited ${c}`)))));
}

/** Pending logins' cookies, each with the recognition cookie of a browser that signed in to the account before. */
function pendingCookies(name: string, from: number, to: number): string {
  const box = createSecretBox(SECRET);
  return cookieLines(name, Array.from({ length: to - from }, (_, k) => `twofold_session=${tokenOf('p', from + k)}; twofold_known=${knownDeviceOf(box, from + k)}`));
}

function sample(n: number, of: number): string[] {
  return Array.from({ length: n }, () => tokenOf('s', Math.floor(Math.random() * of)));
}
const range = (from: number, to: number, kind: 's' | 'p') => Array.from({ length: to - from }, (_, k) => tokenOf(kind, from + k));

const rows: string[][] = [];
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
function row(path: string, who: string, r: Load, floor?: number, note = ''): void {
  rows.push([path, who, fmt(r.rps), fmt(r.p50, 2), fmt(r.p99, 2), floor ? `${fmt((100 * r.rps) / floor)}%` : '', `${r.non2xx + r.errors ? `${r.non2xx + r.errors} bad; ` : ''}${note}`]);
  console.error(`  ${path} ${who}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms${r.non2xx + r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ''}`);
}

interface BenchDatabase {
  url: string;
  /** Pending logins for accounts from … to-1. */
  pending(from: number, to: number): Promise<void>;
  lastSeen(tokens: string[], at: number): Promise<void>;
}

/**
 * Session cookies for a run, marked as seen just now: the people a session check serves are active,
 * so within the touch interval (a minute) their sessions are only read. Each one's first request in
 * a while also writes last_seen_at; that is measured on its own (`stale`).
 */
async function sessionsFor(name: string, d: BenchDatabase, of: number, stale = false): Promise<string> {
  const tokens = sample(5000, of);
  await d.lastSeen(tokens, stale ? Date.now() - 5 * 60_000 : Date.now());
  return cookieFile(name, tokens);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The session check of the floor and of Twofold, Twofold's forward-auth decision, and Twofold's
 * session check on the 1 k database, in alternating rounds, all servers up, on the same sessions.
 * On a shared VM two runs minutes apart differ by 10-50%; a ratio of medians from interleaved
 * rounds is what that noise disturbs least.
 */
async function headToHead(
  label: string,
  twofoldUrl: string,
  floorUrl: string,
  cookies: string,
  forwarded: Record<string, string> | null,
  small: { url: string; cookies: string },
): Promise<void> {
  const f: number[] = [];
  const t: number[] = [];
  const fa: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    f.push((await load({ url: floorUrl, method: 'GET', cookies, pick: 'random' })).rps);
    t.push((await load({ url: `${twofoldUrl}/api/v1/me`, method: 'GET', cookies, pick: 'random' })).rps);
    if (forwarded) fa.push((await load({ url: `${twofoldUrl}/authz/forward-auth`, method: 'GET', headers: forwarded, cookies, pick: 'random' })).rps);
    s.push((await load({ url: `${small.url}/api/v1/me`, method: 'GET', cookies: small.cookies, pick: 'random' })).rps);
  }
  const report = (what: string, xs: number[]) => {
    const ratio = (100 * median(xs)) / median(f);
    const rounds = xs.map((x, i) => `${fmt(x)}/${fmt(f[i]!)}`).join(', ');
    rows.push([`${what} (${fmt(ACCOUNTS)}), alternating with the floor`, `Twofold ${label}`, fmt(median(xs)), '', '', `${fmt(ratio)}%`, `median of ${ROUNDS} rounds; the floor's session check on ${label}: ${fmt(median(f))}; Twofold/floor per round: ${rounds}`]);
    console.error(`  head to head (${label}) ${what}: Twofold ${fmt(median(xs))} req/s, floor ${fmt(median(f))} req/s, ${fmt(ratio)}% (${rounds})`);
  };
  report('GET /api/v1/me', t);
  if (forwarded) report('GET /authz/forward-auth (allow)', fa);
  // The scale check in the same rounds: a million accounts against a thousand, two servers up.
  const scale = (100 * median(t)) / median(s);
  const rounds = t.map((x, i) => `${fmt(x)}/${fmt(s[i]!)}`).join(', ');
  rows.push([`GET /api/v1/me (${fmt(SMALL)} accounts), alternating`, `Twofold ${label}`, fmt(median(s)), '', '', `${fmt((100 * median(s)) / median(f))}%`, `${fmt(ACCOUNTS)} accounts give ${fmt(scale)}% of this; ${fmt(ACCOUNTS)}/${fmt(SMALL)} per round: ${rounds}`]);
  console.error(`  head to head (${label}) scale: ${fmt(ACCOUNTS)} accounts ${fmt(median(t))} req/s, ${fmt(SMALL)} accounts ${fmt(median(s))} req/s, ${fmt(scale)}% (${rounds})`);
}

async function measureTwofold(
  label: string,
  big: BenchDatabase,
  small: BenchDatabase,
  totpFrom: number,
  floor: Record<string, number>,
  extra: string[],
  floorServer: { start: () => Promise<Server>; path: string },
) {
  let server = await startTwofold(small.url);
  await sleep(1000);
  const idleRss = rssMb(server.child.pid!);
  const settled = await settledRss(server.child.pid!);
  const smallMe = await load({ url: `${server.url}/api/v1/me`, method: 'GET', cookies: await sessionsFor(`${label}-small`, small, SMALL), pick: 'random' });
  row('GET /api/v1/me (1 k accounts)', `Twofold ${label}`, smallMe, floor.me);
  await server.stop();

  server = await startTwofold(big.url);
  extra.push(`${label}: start to first 200 ${fmt(server.startMs)} ms; RSS 1 s after start ${fmt(idleRss)} MB, idle ${fmt(settled.mb)} MB (settled ${fmt(1 + settled.seconds)} s after start)`);
  const bigSessions = await sessionsFor(`${label}-big`, big, ACCOUNTS);
  const me = await load({ url: `${server.url}/api/v1/me`, method: 'GET', cookies: bigSessions, pick: 'random' });
  row(`GET /api/v1/me (${fmt(ACCOUNTS)} accounts)`, `Twofold ${label}`, me, floor.me, `${fmt((100 * me.rps) / smallMe.rps)}% of 1 k${floor.mePg ? `; ${fmt((100 * me.rps) / floor.mePg)}% of the PostgreSQL floor` : ''}`);
  // The forward-auth decision as Traefik or Caddy asks for it: a signed-in person, a one_factor rule
  // among a few others, so each answer is an allow (200 with the Remote-* headers).
  const forwarded = { 'X-Forwarded-Method': 'GET', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.bench.test', 'X-Forwarded-Uri': '/dashboard?tab=1' };
  const hasForwardAuth = (await fetch(`${server.url}/authz/forward-auth`, { headers: forwarded })).status !== 404;
  if (ROUNDS > 0) {
    const f = await floorServer.start();
    const smallServer = await startTwofold(small.url);
    try {
      const smallCookies = await sessionsFor(`${label}-h2h-small`, small, SMALL);
      // Warmed up as the big one was by the runs before, so that neither round one measures a cold JIT.
      await load({ url: `${smallServer.url}/api/v1/me`, method: 'GET', cookies: smallCookies, pick: 'random', seconds: 2 });
      await headToHead(label, server.url, f.url + floorServer.path, await sessionsFor(`${label}-h2h`, big, ACCOUNTS), hasForwardAuth ? forwarded : null, {
        url: smallServer.url,
        cookies: smallCookies,
      });
    } finally {
      await smallServer.stop();
      await f.stop();
    }
  }
  const stale = await load({ url: `${server.url}/api/v1/me`, method: 'GET', cookies: await sessionsFor(`${label}-stale`, big, ACCOUNTS, true), pick: 'random' });
  row(`GET /api/v1/me (${fmt(ACCOUNTS)}), sessions last seen 5 min ago`, `Twofold ${label}`, stale, floor.me, 'each session’s first request writes last_seen_at');

  if (hasForwardAuth) {
    const r = await load({ url: `${server.url}/authz/forward-auth`, method: 'GET', headers: forwarded, cookies: await sessionsFor(`${label}-fa`, big, ACCOUNTS), pick: 'random' });
    row('GET /authz/forward-auth (allow)', `Twofold ${label}`, r, floor.me, r.non2xx ? `${fmt(r.non2xx)} not 2xx` : '');
  }

  await big.pending(totpFrom, totpFrom + TOTP_SLICE);
  const body = JSON.stringify({ method: 'totp', code: totpCode(BENCH_TOTP_SECRET, totpStep(Date.now())) });
  const totp = await load({ url: `${server.url}/api/v1/login/two-factor`, method: 'POST', body, cookies: pendingCookies(`${label}-p`, totpFrom, totpFrom + TOTP_SLICE), pick: 'sequential' });
  row('POST /login/two-factor (TOTP)', `Twofold ${label}`, totp, floor.totp, totp.requests > TOTP_SLICE ? 'ran out of pending logins' : '');

  const loginBody = JSON.stringify({ email: emailOf(ACCOUNTS - 1), password: BENCH_PASSWORD });
  const noCookie = cookieFile(`${label}-none`, ['x']);
  const logins = (url: string) => load({ url: `${url}/api/v1/login`, method: 'POST', body: loginBody, cookies: noCookie, pick: 'random' });
  const login = await logins(server.url);
  row('POST /login (argon2id)', `Twofold ${label}`, login, floor.login, `${fmt((100 * login.rps) / floor.loginCapped!)}% of the capped floor`);

  // The session check while a burst of logins runs, against its idle figure.
  const [during] = await Promise.all([
    load({ url: `${server.url}/api/v1/me`, method: 'GET', cookies: await sessionsFor(`${label}-burst`, big, ACCOUNTS), pick: 'random' }),
    logins(server.url),
  ]);
  row('GET /api/v1/me during a login burst', `Twofold ${label}`, during, floor.me, `${fmt((100 * during.rps) / me.rps)}% of idle`);
  extra.push(`${label}: RSS after load ${fmt(rssMb(server.child.pid!))} MB`);
  await server.stop();

  // The same with the server on one core, as on a host whose other cores are busy: the event loop
  // and the hashing thread then share that core, and the scheduler's weights decide who gets it.
  if (hasTaskset) {
    const pinned = await startTwofold(big.url, {}, ['taskset', '-c', '0']);
    try {
      const cookies = await sessionsFor(`${label}-pinned`, big, ACCOUNTS);
      const meOnOne = () => load({ url: `${pinned.url}/api/v1/me`, method: 'GET', cookies, pick: 'random' });
      await meOnOne();
      const alone = await meOnOne();
      row('GET /api/v1/me, server on one core', `Twofold ${label}`, alone, floor.me);
      const [burst, meanwhile] = await Promise.all([meOnOne(), logins(pinned.url)]);
      row('GET /api/v1/me during a login burst, server on one core', `Twofold ${label}`, burst, floor.me, `${fmt((100 * burst.rps) / alone.rps)}% of idle; logins meanwhile ${fmt(meanwhile.rps, 1)}/s`);
    } finally {
      await pinned.stop();
    }
  }
}

async function main(): Promise<void> {
  console.error(`bench: ${SECONDS} s per figure, ${CONNECTIONS} connections, Twofold from ${TWOFOLD}`);
  const passwordHash = await hash(BENCH_PASSWORD, { algorithm: 2 as Algorithm, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 });
  const extra: string[] = [];

  // SQLite: a 1 k and a big database, seeded in bulk.
  const { default: SQLite } = await import('better-sqlite3');
  const smallPath = join(tmp, 'small.db');
  const bigPath = join(tmp, 'big.db');
  let t0 = performance.now();
  for (const [path, accounts] of [[smallPath, SMALL], [bigPath, ACCOUNTS]] as const) {
    await migrate(`sqlite:${path}`);
    const db = new SQLite(path);
    seedSqlite(db, { accounts, totp: Math.min(accounts, 3 * TOTP_SLICE), passwordHash, secret: SECRET });
    db.close();
  }
  console.error(`  seeded SQLite (${fmt(SMALL)} and ${fmt(ACCOUNTS)} accounts) in ${fmt((performance.now() - t0) / 1000, 1)} s`);

  // The floor, over the big SQLite database.
  const floorServer = await startFloor({ FLOOR_DB: bigPath });
  await sleep(1000);
  const floorRss = rssMb(floorServer.child.pid!);
  const floorSettled = await settledRss(floorServer.child.pid!);
  extra.push(`floor: RSS 1 s after start ${fmt(floorRss)} MB, idle ${fmt(floorSettled.mb)} MB (it runs under tsx)`);
  const floor: Record<string, number> = {};
  const fme = await load({ url: `${floorServer.url}/me`, method: 'GET', cookies: cookieFile('floor-big', sample(5000, ACCOUNTS)), pick: 'random' });
  row('GET /api/v1/me', 'floor (Fastify + better-sqlite3)', fme);
  floor.me = fme.rps;
  {
    const db = new SQLite(bigPath);
    pendingSqlite(db, 0, TOTP_SLICE);
    db.close();
  }
  const ftotp = await load({
    url: `${floorServer.url}/login/two-factor`,
    method: 'POST',
    body: JSON.stringify({ code: totpCode(BENCH_TOTP_SECRET, totpStep(Date.now())) }),
    cookies: cookieFile('floor-p', range(0, TOTP_SLICE, 'p')),
    pick: 'sequential',
  });
  row('POST /login/two-factor (TOTP)', 'floor (minimal correct step)', ftotp);
  floor.totp = ftotp.rps;
  const flogin = await load({ url: `${floorServer.url}/login`, method: 'POST', body: JSON.stringify({ email: emailOf(ACCOUNTS - 1), password: BENCH_PASSWORD }), cookies: cookieFile('none', ['x']), pick: 'random' });
  row('POST /login (argon2id)', 'floor (read + argon2id verify)', flogin);
  // The same under Twofold's hashing cap (cores − 1 at once), which keeps a core for everything else.
  const fcapped = await load({ url: `${floorServer.url}/login-capped`, method: 'POST', body: JSON.stringify({ email: emailOf(ACCOUNTS - 1), password: BENCH_PASSWORD }), cookies: cookieFile('none', ['x']), pick: 'random' });
  row('POST /login (argon2id, capped)', `floor (same, ${defaultHashConcurrency()} at once)`, fcapped);
  floor.login = flogin.rps;
  floor.loginCapped = fcapped.rps;
  await floorServer.stop();

  const sqliteBench = (path: string): BenchDatabase => {
    const using = async (f: (db: InstanceType<typeof SQLite>) => void) => {
      const db = new SQLite(path);
      try {
        f(db);
      } finally {
        db.close();
      }
    };
    return {
      url: `sqlite:${path}`,
      pending: (from, to) => using((db) => pendingSqlite(db, from, to)),
      lastSeen: (tokens, at) => using((db) => lastSeenSqlite(db, tokens, at)),
    };
  };
  await measureTwofold('SQLite', sqliteBench(bigPath), sqliteBench(smallPath), TOTP_SLICE, floor, extra, { start: () => startFloor({ FLOOR_DB: bigPath }), path: '/me' });

  if (PG_ADMIN) {
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    const names = [`twofold_bench_small_${process.pid}`, `twofold_bench_big_${process.pid}`];
    const urlOf = (name: string) => {
      const u = new URL(PG_ADMIN);
      u.pathname = `/${name}`;
      return u.toString();
    };
    try {
      t0 = performance.now();
      for (const [i, name] of names.entries()) {
        await admin.query(`CREATE DATABASE ${name}`);
        await migrate(urlOf(name));
        const c = new pg.Client({ connectionString: urlOf(name) });
        await c.connect();
        const accounts = i === 0 ? SMALL : ACCOUNTS;
        await seedPostgres(c, { accounts, totp: Math.min(accounts, 3 * TOTP_SLICE), passwordHash, secret: SECRET });
        await c.end();
      }
      console.error(`  seeded PostgreSQL in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      // The floor's session check on PostgreSQL: what a bare server gets with the database sharing the cores.
      const pgFloor = await startFloor({ FLOOR_DB: bigPath, FLOOR_PG_URL: urlOf(names[1]!) });
      const fmepg = await load({ url: `${pgFloor.url}/me-pg`, method: 'GET', cookies: cookieFile('floor-pg', sample(5000, ACCOUNTS)), pick: 'random' });
      row('GET /api/v1/me', 'floor on PostgreSQL (Fastify + pg)', fmepg, floor.me);
      await pgFloor.stop();
      const postgresBench = (url: string): BenchDatabase => {
        const using = async (f: (c: InstanceType<typeof pg.Client>) => Promise<void>) => {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          try {
            await f(c);
          } finally {
            await c.end();
          }
        };
        return { url, pending: (from, to) => using((c) => pendingPostgres(c, from, to)), lastSeen: (tokens, at) => using((c) => lastSeenPostgres(c, tokens, at)) };
      };
      await measureTwofold('PostgreSQL', postgresBench(urlOf(names[1]!)), postgresBench(urlOf(names[0]!)), 2 * TOTP_SLICE, { ...floor, mePg: fmepg.rps }, extra, {
        start: () => startFloor({ FLOOR_DB: bigPath, FLOOR_PG_URL: urlOf(names[1]!) }),
        path: '/me-pg',
      });
    } finally {
      for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`\n${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} × ${cpu}, ${fmt(totalmem() / 2 ** 30)} GB, Node ${process.version}, load from ${fme.tool} (${CONNECTIONS} connections, ${SECONDS} s each)\n`);
  console.log('| path | server | req/s | p50 ms | p99 ms | of floor | note |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
  for (const e of extra) console.log(`- ${e}`);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
