import type { Kysely } from 'kysely';
import type { OutboxState } from '../core/mail-outbox.js';
import type { Database } from './schema.js';

export interface NewOutboxMessage {
  id: string;
  userId: string | null;
  kind: string;
  to: string;
  contentEnc: string;
  createdAt: number;
}

export interface ClaimedMessage {
  id: string;
  userId: string | null;
  kind: string;
  to: string;
  contentEnc: string;
  attempts: number;
  createdAt: number;
}

/** Written in the caller's transaction (pass the transaction as `db`), so it commits with the event. */
export async function insertOutboxMessage(db: Kysely<Database>, m: NewOutboxMessage): Promise<void> {
  await db
    .insertInto('mail_outbox')
    .values({
      id: m.id,
      user_id: m.userId,
      kind: m.kind,
      to_address: m.to,
      content_enc: m.contentEnc,
      state: 'queued',
      attempts: 0,
      created_at: m.createdAt,
      next_attempt_at: m.createdAt,
      lease_owner: null,
      lease_until: null,
      sent_at: null,
      last_error: null,
    })
    .execute();
}

/** Ids of messages that are due and not under a live lease, oldest first. */
export async function findDueMessageIds(db: Kysely<Database>, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('mail_outbox')
    .select('id')
    .where('state', '=', 'queued')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Takes one message for `owner` until `leaseUntil`: a single conditional UPDATE, so of two nodes
 * racing for it exactly one gets a row back. An expired lease (a crashed node) can be taken over.
 */
export async function claimMessage(db: Kysely<Database>, id: string, owner: string, now: number, leaseUntil: number): Promise<ClaimedMessage | null> {
  const r = await db
    .updateTable('mail_outbox')
    .set({ lease_owner: owner, lease_until: leaseUntil })
    .where('id', '=', id)
    .where('state', '=', 'queued')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .returning(['id', 'user_id', 'kind', 'to_address', 'content_enc', 'attempts', 'created_at'])
    .executeTakeFirst();
  if (!r || r.content_enc === null) return null;
  return { id: r.id, userId: r.user_id, kind: r.kind, to: r.to_address, contentEnc: r.content_enc, attempts: r.attempts, createdAt: r.created_at };
}

/** Sent: the sealed content is dropped (its links must not outlive their purpose in the database). */
export async function markSent(db: Kysely<Database>, id: string, owner: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('mail_outbox')
    .set({ state: 'sent', sent_at: now, content_enc: null, lease_owner: null, lease_until: null, last_error: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function markRetry(db: Kysely<Database>, id: string, owner: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({ attempts, next_attempt_at: nextAttemptAt, lease_owner: null, lease_until: null, last_error: error.slice(0, 500) })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

export async function markFailed(db: Kysely<Database>, id: string, owner: string, attempts: number, error: string): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({ state: 'failed', attempts, content_enc: null, lease_owner: null, lease_until: null, last_error: error.slice(0, 500) })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Gives a claimed message back to the queue at once (a node shutting down mid-send). */
export async function releaseMessage(db: Kysely<Database>, id: string, owner: string): Promise<void> {
  await db.updateTable('mail_outbox').set({ lease_owner: null, lease_until: null }).where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'queued').execute();
}

export async function countByState(db: Kysely<Database>): Promise<Record<OutboxState, number>> {
  const rows = await db.selectFrom('mail_outbox').select(['state', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('state').execute();
  const out: Record<OutboxState, number> = { queued: 0, sent: 0, failed: 0 };
  for (const r of rows) if (r.state in out) out[r.state] = Number(r.n);
  return out;
}

export interface OutboxRow {
  id: string;
  userId: string | null;
  kind: string;
  to: string;
  state: OutboxState;
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
  sentAt: number | null;
  lastError: string | null;
}

export async function listOutbox(db: Kysely<Database>): Promise<OutboxRow[]> {
  const rows = await db.selectFrom('mail_outbox').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    kind: r.kind,
    to: r.to_address,
    state: r.state,
    attempts: r.attempts,
    createdAt: r.created_at,
    nextAttemptAt: r.next_attempt_at,
    sentAt: r.sent_at,
    lastError: r.last_error,
  }));
}

/** Housekeeping: sent and failed messages older than `before` (their content is gone already). */
export async function deleteFinishedBefore(db: Kysely<Database>, before: number): Promise<number> {
  const r = await db.deleteFrom('mail_outbox').where('state', 'in', ['sent', 'failed']).where('created_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
