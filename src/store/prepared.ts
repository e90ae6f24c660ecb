import type { CompiledQuery, Compilable, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.js';

/*
 * Hot queries are built and compiled by Kysely once per dialect, then run as CompiledQuery with new
 * parameter values: no query building or SQL compilation per request. The SQL text is stable, so
 * the drivers keep it prepared (better-sqlite3 statement cache, PostgreSQL named statements: see
 * db.ts). The query still runs through db.executeQuery, so it joins a transaction when given one and
 * waits for SQLite's single connection like every other query.
 */

const MARK = '\u0000twofold-arg:';

/** Stands for the n-th argument of a prepared query, wherever a value of any type goes. */
export function arg<T>(n: number): T {
  return `${MARK}${n}` as unknown as T;
}

interface Template {
  compiled: CompiledQuery;
  /** For each parameter: the argument index it takes, or -1 to keep the compiled constant. */
  slots: number[];
}

export type PreparedQuery<A extends readonly unknown[], R> = (db: Kysely<Database>, ...args: A) => CompiledQuery<R>;

/**
 * Defines a query once; `build` uses arg(0), arg(1)… where the arguments go. The result turns
 * arguments into a ready CompiledQuery for whichever dialect (and transaction) `db` is.
 */
export function prepare<A extends readonly unknown[], R>(build: (db: Kysely<Database>) => Compilable<R>): PreparedQuery<A, R> {
  // Keyed by the adapter's class: one compilation per dialect, shared by transactions.
  const templates = new Map<unknown, Template>();
  return (db, ...args) => {
    const key = db.getExecutor().adapter.constructor;
    let t = templates.get(key);
    if (!t) {
      const compiled = build(db).compile();
      const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? Number(p.slice(MARK.length)) : -1));
      t = { compiled, slots };
      templates.set(key, t);
    }
    const { compiled, slots } = t;
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) parameters[i] = slots[i]! >= 0 ? args[slots[i]!] : compiled.parameters[i];
    return { query: compiled.query, queryId: compiled.queryId, sql: compiled.sql, parameters } as CompiledQuery<R>;
  };
}

/**
 * Runs a compiled query on the driver itself, or answers undefined when it cannot right now (then
 * the query goes through Kysely). Kysely's connection hand-over costs several promises per query (a
 * quarter of the session check's time on SQLite). SQLite (better-sqlite3 runs a statement
 * synchronously) registers one for while no transaction holds its one connection; PostgreSQL one
 * that sends the statement on the pool, as Kysely would, without the hand-over (store/db.ts).
 */
export interface DirectResult {
  rows: unknown[];
  changes: number;
}
export type DirectExecutor = (q: CompiledQuery<unknown>) => DirectResult | Promise<DirectResult> | undefined;

const direct = new WeakMap<Kysely<Database>, DirectExecutor>();

/** Only for the root Kysely instance: a transaction is another instance and always goes through Kysely. */
export function registerDirectExecutor(db: Kysely<Database>, run: DirectExecutor): void {
  direct.set(db, run);
}

async function execute(db: Kysely<Database>, q: CompiledQuery<unknown>): Promise<DirectResult> {
  const run = direct.get(db);
  const d = run === undefined ? undefined : run(q);
  if (d !== undefined) return d;
  const r: QueryResult<unknown> = await db.executeQuery(q);
  return { rows: r.rows, changes: Number(r.numAffectedRows ?? 0n) };
}

export async function first<R>(db: Kysely<Database>, q: CompiledQuery<R>): Promise<R | undefined> {
  return (await execute(db, q)).rows[0] as R | undefined;
}

export async function all<R>(db: Kysely<Database>, q: CompiledQuery<R>): Promise<R[]> {
  return (await execute(db, q)).rows as R[];
}

/** Rows inserted, updated or deleted. */
export async function affected(db: Kysely<Database>, q: CompiledQuery<unknown>): Promise<number> {
  return (await execute(db, q)).changes;
}

/**
 * Databases whose lookups are worth batching across requests (store/batch.ts): PostgreSQL, where
 * each query is a round trip. better-sqlite3 answers in the same call, so SQLite gains nothing from
 * waiting for others.
 */
const batching = new WeakSet<Kysely<Database>>();

/** Only for the root Kysely instance: a transaction's reads must stay inside it. */
export function registerBatching(db: Kysely<Database>): void {
  batching.add(db);
}

export function batches(db: Kysely<Database>): boolean {
  return batching.has(db);
}
