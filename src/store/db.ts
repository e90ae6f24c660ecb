import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type { Pool } from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, type LogConfig, type SqliteDatabase } from 'kysely';
import type { Database } from './schema.js';
import { registerBatching, registerDirectExecutor, type DirectExecutor } from './prepared.js';
import { SERVING_AUTOCHECKPOINT_PAGES, startCheckpointer, type Checkpointer } from './checkpointer.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
  /** A consistent copy of a live SQLite database (online backup API); PostgreSQL has pg_dump. */
  backup(file: string): Promise<void>;
}

// Each driver is loaded only by the database that uses it: pg alone costs ~15 MB and 100 ms of start.
const require = createRequire(import.meta.url);

const DML = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * better-sqlite3 compiles a statement on every prepare(); Kysely calls prepare() per query. Caching
 * by SQL text makes each distinct query compile once for the life of the process. A plain object
 * (Kysely needs only prepare and close), not a Proxy, which cost every property access on the hot path.
 */
function withStatementCache(raw: BetterSqlite3.Database): SqliteDatabase & { prepare(sql: string): BetterSqlite3.Statement } {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = raw.prepare(sql);
        // DDL is run once and would pin stale statements; keep only DML.
        if (DML.test(sql)) cache.set(sql, stmt);
      }
      return stmt;
    },
    close: () => raw.close(),
  };
}

/** `log`: Kysely's query log (the tests count the statements of a request with it). */
export interface StoreOptions {
  log?: LogConfig;
  /** SQLite: checkpoint the WAL from a worker thread (store/checkpointer.ts), for a serving process. */
  backgroundCheckpoints?: boolean;
  /** Session lookups of one event-loop turn share one query (store/batch.ts): PostgreSQL by default, SQLite only when asked (tests). */
  batchLookups?: boolean;
}

/**
 * Registers the driver's own path for prepared queries (store/prepared.ts). A query log given as a
 * function sees those queries too, when they have run (the tests count statements with it); one
 * given as levels is Kysely's to print, so the direct path stays off and every query goes through it.
 */
function directPath(db: Kysely<Database>, log: LogConfig | undefined, run: DirectExecutor): void {
  if (log === undefined) return registerDirectExecutor(db, run);
  if (typeof log !== 'function') return;
  registerDirectExecutor(db, (q) => {
    const r = run(q);
    const logged = () => log({ level: 'query', query: q, queryDurationMillis: 0 });
    if (r instanceof Promise) return r.then((v) => (logged(), v));
    if (r !== undefined) logged();
    return r;
  });
}

/**
 * With sqlite_stat4 histograms present (ANALYZE, or PRAGMA optimize, fills them in a build with
 * STAT4, as better-sqlite3's is), SQLite re-plans a prepared statement with a join or subquery
 * whenever a bound value changes: every session check would compile its query again (measured: the
 * session lookup 2× slower, GET /me 4×). Every query here is an equality on a key, which the
 * per-index row counts of sqlite_stat1 (kept) plan as well; so the value histograms are dropped at
 * start, and the planner reloads what is left.
 */
function dropValueHistograms(raw: BetterSqlite3.Database): void {
  const has = raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat4'").get();
  if (!has || raw.readonly) return;
  raw.exec('DELETE FROM sqlite_stat4');
  raw.exec('ANALYZE sqlite_schema');
}

export function openSqlite(path: string, opts: StoreOptions = {}): Store {
  const isNew = path !== ':memory:' && !existsSync(path);
  if (isNew) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const SQLite = require('better-sqlite3') as typeof BetterSqlite3;
  const raw = new SQLite(path);
  // Password hashes and sealed secrets: readable by the service's user only. Set before WAL mode,
  // since SQLite gives the -wal and -shm files the main file's permissions.
  if (isNew) chmodSync(path, 0o600);
  raw.pragma('journal_mode = WAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  // WAL + NORMAL is durable across application crashes; only an OS crash can lose the last commits.
  raw.pragma('synchronous = NORMAL');
  // Pages are read through a memory map, not copied in by a read(2) each: with a million accounts
  // the session check's few index lookups mostly miss SQLite's own 16 MB cache (measured: GET /me
  // 5-25% faster). Only reads use it; writes still go through the WAL.
  raw.pragma('mmap_size = 1073741824');
  dropValueHistograms(raw);
  let checkpointer: Checkpointer | undefined;
  if (opts.backgroundCheckpoints && path !== ':memory:') {
    raw.pragma(`wal_autocheckpoint = ${SERVING_AUTOCHECKPOINT_PAGES}`);
    checkpointer = startCheckpointer(path, require.resolve('better-sqlite3'));
  }
  const statements = withStatementCache(raw);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }), ...(opts.log ? { log: opts.log } : {}) });
  // Prepared hot queries run on the driver directly, except while a transaction is open on the one
  // connection: Kysely then queues them behind it (its connection lock), and they must neither join
  // that transaction nor read what it has not committed.
  directPath(db, opts.log, (q) => {
    if (raw.inTransaction) return undefined;
    const stmt = statements.prepare(q.sql);
    return stmt.reader ? { rows: stmt.all(q.parameters as unknown[]), changes: 0 } : { rows: [], changes: Number(stmt.run(q.parameters as unknown[]).changes) };
  });
  if (opts.batchLookups) registerBatching(db);
  return {
    db,
    dialect: 'sqlite',
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
    backup: async (file) => {
      // The copy holds password hashes and sealed secrets: it is created empty, private to the
      // service's user and exclusively (never over an existing file), before any data goes in;
      // SQLite keeps the mode of a file it opens, and gives its journal the same.
      const fd = openSync(file, 'wx', 0o600);
      try {
        fchmodSync(fd, 0o600);
      } finally {
        closeSync(fd);
      }
      await raw.backup(file);
    },
  };
}

/**
 * pg sends unnamed statements, which PostgreSQL re-plans on every call. Naming each DML statement by
 * a hash of its text makes every pooled connection prepare it once and reuse it. The name is
 * computed once per distinct text, not per call.
 */
function namedStatements(pool: Pool): Pool {
  const names = new Map<string, string | null>();
  const nameOf = (text: string): string | null => {
    let name = names.get(text);
    if (name === undefined) {
      name = DML.test(text) ? 'tf_' + createHash('sha1').update(text).digest('hex').slice(0, 24) : null;
      names.set(text, name);
    }
    return name;
  };
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, cb?: unknown) => {
      if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
        const name = nameOf(text);
        if (name) return query({ name, text, values }, cb);
      }
      return cb === undefined ? query(text, values) : query(text, values, cb);
    };
  });
  return pool;
}

export function openPostgres(url: string, max = 10, opts: StoreOptions = {}): Store {
  const pg = require('pg') as typeof import('pg');
  // bigint (int8) columns hold millisecond times and counters, all far below 2^53.
  pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  const pool = namedStatements(new pg.Pool({ connectionString: url, max }));
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(opts.log ? { log: opts.log } : {}) });
  // Prepared hot queries outside transactions go to the pool straight away (named statements all the same).
  directPath(db, opts.log, async (q) => {
    const r = await pool.query(q.sql, q.parameters as unknown[]);
    return { rows: r.rows, changes: r.rowCount ?? 0 };
  });
  // Session lookups of one event-loop turn share a query (store/batch.ts).
  if (opts.batchLookups !== false) registerBatching(db);
  return {
    db,
    dialect: 'postgres',
    close: () => db.destroy(),
    backup: async () => {
      throw new Error('backup is for SQLite; back up PostgreSQL with pg_dump');
    },
  };
}

export function openStore(databaseUrl: string, opts: StoreOptions = {}): Store {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return openPostgres(databaseUrl, undefined, opts);
  const path = databaseUrl.replace(/^sqlite:/, '').replace(/^\/\/(?=\/)/, '');
  return openSqlite(path, opts);
}
