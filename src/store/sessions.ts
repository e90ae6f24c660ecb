import type { Kysely, Selectable } from 'kysely';
import { parseAmr, serializeAmr, type AmrValue } from '../core/amr.js';
import type { Session } from '../core/session.js';
import { affected, all, arg, batches, first, prepare, type PreparedQuery } from './prepared.js';
import { createBatcher, padBatch, perBatchSize, type Batcher } from './batch.js';
import type { Database, SessionsTable } from './schema.js';
import type { TwoFactorStatus } from './two-factor-status.js';

export interface SessionWithUser {
  session: Session;
  email: string;
  /** The account's groups, sorted; only when asked for (the forward-auth decision, GET /me). */
  groups?: string[];
  /** What GET /me shows of the account; only when asked for. */
  account?: { emailVerified: boolean; twoFactor: TwoFactorStatus };
}

const insertRow = prepare<
  [
    id: string,
    userId: string,
    createdAt: number,
    lastSeenAt: number,
    pending: number,
    authenticatedAt: number | null,
    ip: string | null,
    userAgent: string | null,
    amr: string,
    credentialGeneration: number,
  ],
  unknown
>((db) =>
  db.insertInto('sessions').values({
    id: arg(0),
    user_id: arg(1),
    created_at: arg(2),
    last_seen_at: arg(3),
    pending: arg(4),
    authenticated_at: arg(5),
    ip: arg(6),
    user_agent: arg(7),
    amr: arg(8),
    credential_generation: arg(9),
  }),
);

export async function insertSession(db: Kysely<Database>, s: Session): Promise<void> {
  await affected(db, insertRow(db, s.id, s.userId, s.createdAt, s.lastSeenAt, s.pending ? 1 : 0, s.authenticatedAt, s.ip, s.userAgent, serializeAmr(s.amr), s.credentialGeneration));
}

/** What the session check reads: the session and its account's email. */
export const SESSION_COLUMNS = [
  'sessions.id',
  'sessions.user_id',
  'sessions.created_at',
  'sessions.last_seen_at',
  'sessions.pending',
  'sessions.authenticated_at',
  'sessions.ip',
  'sessions.user_agent',
  'sessions.amr',
  'sessions.credential_generation',
  'users.email',
] as const;

/** A row of SESSION_COLUMNS: the session's own columns and its account's email. */
export type SessionRow = Selectable<SessionsTable> & { email: string };

interface AccountRow {
  email_verified_at: number | null;
  totp: number | string;
  keys: number | string;
  codes: number | string;
}

/** The session lookups come in three kinds, each by one id or by a batch of ids (store/batch.ts). */
type LookupKind = 'plain' | 'groups' | 'account';
type LookupRow = SessionRow & Partial<AccountRow> & { group_name?: string | null };

/** `n` ids from argument `from` on: arg(from) … arg(from + n - 1). */
const idsIn = (n: number, from = 0) => Array.from({ length: n }, (_, i) => arg<string>(from + i));

/**
 * A session stamped with an older credential generation than the account's is not found: that is
 * how "end every session" works (store/credential-generation.ts).
 *
 * plain: the session and its account's email. groups (the forward-auth decision): the same,
 * left-joined to the account's group rows (by the user_groups primary key), one row per group, so
 * group changes apply at the next request. account (GET /me): also what the account has set up, as
 * correlated counts over the same indexes twoFactorStatus uses (unused recovery codes from their
 * partial index, never row by row).
 */
function lookupQuery(kind: LookupKind, n: number) {
  return prepare<string[], LookupRow>((db) => {
    const base = db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .where((eb) => (n === 1 ? eb('sessions.id', '=', arg<string>(0)) : eb('sessions.id', 'in', idsIn(n))))
      .whereRef('sessions.credential_generation', '=', 'users.credential_generation');
    if (kind === 'plain') return base.select(SESSION_COLUMNS);
    const withGroups = base.leftJoin('user_groups', 'user_groups.user_id', 'sessions.user_id');
    if (kind === 'groups') return withGroups.select([...SESSION_COLUMNS, 'user_groups.name as group_name']);
    return withGroups.select((eb) => [
      ...SESSION_COLUMNS,
      'users.email_verified_at',
      'user_groups.name as group_name',
      eb
        .selectFrom('totp_credentials')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('totp_credentials.user_id', '=', 'sessions.user_id')
        .where('totp_credentials.confirmed_at', 'is not', null)
        .as('totp'),
      eb.selectFrom('security_keys').select(eb.fn.countAll<number>().as('n')).whereRef('security_keys.user_id', '=', 'sessions.user_id').as('keys'),
      eb
        .selectFrom('recovery_codes')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('recovery_codes.user_id', '=', 'sessions.user_id')
        .where('recovery_codes.used_at', 'is', null)
        .as('codes'),
    ]);
  });
}

/**
 * Most ids in one batched lookup; batches are padded to a power of two up to it (batchSize). Fifty
 * requests at once then make two or more queries, which PostgreSQL runs on as many backends.
 */
const MAX_BATCH = 32;

/** Each kind's query for 1, 2, 4 … MAX_BATCH ids. */
const lookupFor: Record<LookupKind, (n: number) => PreparedQuery<string[], LookupRow>> = {
  plain: perBatchSize((n) => lookupQuery('plain', n)),
  groups: perBatchSize((n) => lookupQuery('groups', n)),
  account: perBatchSize((n) => lookupQuery('account', n)),
};

/** The batched lookups of one database. */
const batchers = new WeakMap<Kysely<Database>, Record<LookupKind, Batcher<LookupRow>>>();
function batcherOf(db: Kysely<Database>): Record<LookupKind, Batcher<LookupRow>> {
  let b = batchers.get(db);
  if (!b) {
    const make = (kind: LookupKind) =>
      createBatcher<LookupRow>(
        (ids) => {
          const padded = padBatch(ids, MAX_BATCH);
          return all(db, lookupFor[kind](padded.length)(db, ...padded));
        },
        (row) => row.id,
        MAX_BATCH,
      );
    b = { plain: make('plain'), groups: make('groups'), account: make('account') };
    batchers.set(db, b);
  }
  return b;
}

const lookup = (db: Kysely<Database>, kind: LookupKind, id: string): Promise<LookupRow[]> =>
  batches(db) ? batcherOf(db)[kind].load(id) : all(db, lookupFor[kind](1)(db, id));

const groupsOf = (rows: { group_name?: string | null }[]) => rows.flatMap((row) => (row.group_name ? [row.group_name] : [])).sort();

/**
 * The hot path: one primary-key lookup joined to the user's email, prepared once. With `groups`,
 * the account's groups in the same query; with `account`, also what GET /me shows. On a database
 * that batches (PostgreSQL), lookups made in the same turn of the event loop share one query.
 */
export async function findSession(db: Kysely<Database>, id: string, opts: { groups?: boolean; account?: boolean } = {}): Promise<SessionWithUser | null> {
  const kind: LookupKind = opts.account ? 'account' : opts.groups ? 'groups' : 'plain';
  const rows = await lookup(db, kind, id);
  const r = rows[0];
  if (!r) return null;
  const found: SessionWithUser = { email: r.email, session: toSession(r) };
  if (kind !== 'plain') found.groups = groupsOf(rows);
  if (kind === 'account') {
    found.account = {
      emailVerified: r.email_verified_at !== null,
      twoFactor: { totp: Number(r.totp) > 0, securityKeys: Number(r.keys), recoveryCodesRemaining: Number(r.codes) },
    };
  }
  return found;
}

/** A row of SESSION_COLUMNS as the domain's Session. */
export function toSession(r: Omit<SessionRow, 'email'>): Session {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    pending: r.pending === 1,
    authenticatedAt: r.authenticated_at,
    ip: r.ip,
    userAgent: r.user_agent,
    amr: parseAmr(r.amr),
    credentialGeneration: Number(r.credential_generation),
  };
}

/** last_seen_at = arg(0) for `n` sessions, arg(1) … arg(n). */
const touchFor = perBatchSize((n) =>
  prepare<(string | number)[], unknown>((db) =>
    db
      .updateTable('sessions')
      .set({ last_seen_at: arg<number>(0) })
      .where((eb) => (n === 1 ? eb('id', '=', arg<string>(1)) : eb('id', 'in', idsIn(n, 1)))),
  ),
);

/**
 * On a database that batches, the touches of one turn are one UPDATE (one commit on PostgreSQL),
 * stamped with the latest of their times: they were all asked for within that turn.
 */
const touchBatchers = new WeakMap<Kysely<Database>, { batcher: Batcher<never>; latest: number }>();
function touchBatcherOf(db: Kysely<Database>) {
  let t = touchBatchers.get(db);
  if (!t) {
    const state = {
      latest: 0,
      batcher: createBatcher<never>(
        async (ids) => {
          const now = state.latest;
          state.latest = 0;
          const padded = padBatch(ids, MAX_BATCH);
          await affected(db, touchFor(padded.length)(db, now, ...padded));
          return [];
        },
        () => '',
        MAX_BATCH,
      ),
    };
    t = state;
    touchBatchers.set(db, t);
  }
  return t;
}

export async function touchSession(db: Kysely<Database>, id: string, now: number): Promise<void> {
  if (!batches(db)) {
    await affected(db, touchFor(1)(db, now, id));
    return;
  }
  const t = touchBatcherOf(db);
  t.latest = Math.max(t.latest, now);
  await t.batcher.load(id);
}

/** A full authentication inside a live session (re-authentication): fresh now, with what it proved. */
export async function markSessionAuthenticated(db: Kysely<Database>, id: string, now: number, amr: readonly AmrValue[]): Promise<void> {
  await db.updateTable('sessions').set({ authenticated_at: now, last_seen_at: now, amr: serializeAmr(amr) }).where('id', '=', id).execute();
}

/** A factor set up in this session counts for `two_factor` rules, but adds no freshness. */
export async function setSessionAmr(db: Kysely<Database>, id: string, amr: readonly AmrValue[]): Promise<void> {
  await db.updateTable('sessions').set({ amr: serializeAmr(amr) }).where('id', '=', id).execute();
}

const deleteById = prepare<[id: string], unknown>((db) => db.deleteFrom('sessions').where('id', '=', arg<string>(0)));

/** Returns whether a row was deleted, so a consumer of a pending login knows it won the race. */
export async function deleteSession(db: Kysely<Database>, id: string): Promise<boolean> {
  return (await affected(db, deleteById(db, id))) > 0;
}

const deletePending = prepare<[id: string], unknown>((db) => db.deleteFrom('sessions').where('id', '=', arg<string>(0)).where('pending', '=', 1));

/** A pending login is turned into a session once: only the request whose DELETE removed it may go on. */
export async function claimPendingSession(db: Kysely<Database>, id: string): Promise<boolean> {
  return (await affected(db, deletePending(db, id))) > 0;
}

/** The pending login with this id (a query to run, or to ask EXISTS of in a guarded write). */
export function pendingLogin(db: Kysely<Database>, id: string | null) {
  return db.selectFrom('sessions').select('sessions.id').where('sessions.id', '=', id).where('sessions.pending', '=', 1);
}

const pendingById = prepare<[id: string], { id: string }>((db) => pendingLogin(db, arg<string>(0)));

export async function pendingSessionExists(db: Kysely<Database>, id: string): Promise<boolean> {
  return (await first(db, pendingById(db, id))) !== undefined;
}

/** Housekeeping: rows past any possible lifetime. */
export async function deleteSessionsOlderThan(db: Kysely<Database>, createdBefore: number, idleBefore: number): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('created_at', '<', createdBefore), eb('last_seen_at', '<', idleBefore)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
