import type { Kysely } from 'kysely';
import type { CancelReason, Recovery, RecoveryState } from '../core/account-recovery.js';
import type { Database } from './schema.js';

type Row = Database['account_recoveries'];
type Db = Kysely<Database>;

const OPEN_STATES: RecoveryState[] = ['requested', 'scheduled'];

const toRecovery = (r: Row): Recovery => ({
  id: r.id,
  userId: r.user_id,
  state: r.state as RecoveryState,
  requestedAt: Number(r.requested_at),
  confirmExpiresAt: Number(r.confirm_expires_at),
  scheduledAt: r.scheduled_at === null ? null : Number(r.scheduled_at),
  dueAt: r.due_at === null ? null : Number(r.due_at),
  reminderSentAt: r.reminder_sent_at === null ? null : Number(r.reminder_sent_at),
  endNoticeSentAt: r.end_notice_sent_at === null ? null : Number(r.end_notice_sent_at),
  endedAt: r.ended_at === null ? null : Number(r.ended_at),
  cancelReason: r.cancel_reason as CancelReason | null,
});

const changed = (r: { numUpdatedRows: bigint }): boolean => Number(r.numUpdatedRows) > 0;

export async function insertRecovery(db: Db, r: Recovery, meta: { ip: string | null; userAgent: string | null }): Promise<void> {
  await db
    .insertInto('account_recoveries')
    .values({
      id: r.id,
      user_id: r.userId,
      state: r.state,
      requested_at: r.requestedAt,
      confirm_expires_at: r.confirmExpiresAt,
      scheduled_at: r.scheduledAt,
      due_at: r.dueAt,
      reminder_sent_at: r.reminderSentAt,
      end_notice_sent_at: r.endNoticeSentAt,
      ended_at: r.endedAt,
      cancel_reason: r.cancelReason,
      ip: meta.ip,
      user_agent: meta.userAgent,
    })
    .execute();
}

/** What the start limits look at: every recovery started since `since`, and any still open. */
export async function recentRecoveries(db: Db, userId: string, since: number): Promise<Recovery[]> {
  const rows = await db
    .selectFrom('account_recoveries')
    .selectAll()
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('requested_at', '>', since), eb('state', 'in', OPEN_STATES)]))
    .orderBy('requested_at', 'desc')
    .execute();
  return rows.map(toRecovery);
}

export async function findRecovery(db: Db, id: string): Promise<Recovery | null> {
  const r = await db.selectFrom('account_recoveries').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toRecovery(r) : null;
}

/** The newest recovery of the account, whatever its state (for showing it). */
export async function latestRecovery(db: Db, userId: string): Promise<Recovery | null> {
  const r = await db.selectFrom('account_recoveries').selectAll().where('user_id', '=', userId).orderBy('requested_at', 'desc').limit(1).executeTakeFirst();
  return r ? toRecovery(r) : null;
}

/** The account's recoveries still requested or waiting (a query to run, or to ask EXISTS of). */
export function openRecoveries(db: Db, userId: string) {
  return db.selectFrom('account_recoveries').selectAll().where('account_recoveries.user_id', '=', userId).where('account_recoveries.state', 'in', OPEN_STATES);
}

export async function openRecoveriesOf(db: Db, userId: string): Promise<Recovery[]> {
  return (await openRecoveries(db, userId).execute()).map(toRecovery);
}

/** For administrators: every recovery still requested or waiting, soonest due first. */
export async function allOpenRecoveries(db: Db): Promise<(Recovery & { email: string })[]> {
  const rows = await db
    .selectFrom('account_recoveries')
    .innerJoin('users', 'users.id', 'account_recoveries.user_id')
    .selectAll('account_recoveries')
    .select('users.email')
    .where('account_recoveries.state', 'in', OPEN_STATES)
    .orderBy('account_recoveries.requested_at', 'asc')
    .execute();
  return rows.map((r) => ({ ...toRecovery(r), email: r.email }));
}

export async function insertRecoveryToken(db: Db, t: { tokenHash: string; recoveryId: string; purpose: 'confirm' | 'cancel'; expiresAt: number }): Promise<void> {
  await db.insertInto('account_recovery_tokens').values({ token_hash: t.tokenHash, recovery_id: t.recoveryId, purpose: t.purpose, expires_at: t.expiresAt }).execute();
}

export async function findRecoveryByToken(db: Db, tokenHash: string, purpose: 'confirm' | 'cancel', now: number): Promise<Recovery | null> {
  const r = await db
    .selectFrom('account_recovery_tokens')
    .innerJoin('account_recoveries', 'account_recoveries.id', 'account_recovery_tokens.recovery_id')
    .selectAll('account_recoveries')
    .where('account_recovery_tokens.token_hash', '=', tokenHash)
    .where('account_recovery_tokens.purpose', '=', purpose)
    .where('account_recovery_tokens.expires_at', '>', now)
    .executeTakeFirst();
  return r ? toRecovery(r) : null;
}

/** Spent links go, so a link works once even where its recovery could take it again. */
export async function deleteRecoveryTokens(db: Db, recoveryId: string, purpose?: 'confirm' | 'cancel'): Promise<void> {
  let q = db.deleteFrom('account_recovery_tokens').where('recovery_id', '=', recoveryId);
  if (purpose) q = q.where('purpose', '=', purpose);
  await q.execute();
}

// Each transition below is one conditional UPDATE: of racing requests on any nodes, one wins.

export async function scheduleRecovery(db: Db, id: string, now: number, dueAt: number): Promise<boolean> {
  const r = await db
    .updateTable('account_recoveries')
    .set({ state: 'scheduled', scheduled_at: now, due_at: dueAt })
    .where('id', '=', id)
    .where('state', '=', 'requested')
    .where('confirm_expires_at', '>', now)
    .executeTakeFirst();
  return changed(r);
}

export async function cancelRecovery(db: Db, id: string, now: number, reason: CancelReason): Promise<boolean> {
  const r = await db
    .updateTable('account_recoveries')
    .set({ state: 'cancelled', ended_at: now, cancel_reason: reason })
    .where('id', '=', id)
    .where('state', 'in', OPEN_STATES)
    .executeTakeFirst();
  return changed(r);
}

export async function completeRecovery(db: Db, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('account_recoveries')
    .set({ state: 'completed', ended_at: now })
    .where('id', '=', id)
    .where('state', '=', 'scheduled')
    .where('due_at', '<=', now)
    .executeTakeFirst();
  return changed(r);
}

export async function approveRecoveryNow(db: Db, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('account_recoveries')
    .set({ due_at: now })
    .where('id', '=', id)
    .where('state', '=', 'scheduled')
    .where('due_at', '>', now)
    .executeTakeFirst();
  return changed(r);
}

/** Claims the reminder for this node: the mail is written only by the claim that changed the row. */
export async function claimReminder(db: Db, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('account_recoveries')
    .set({ reminder_sent_at: now })
    .where('id', '=', id)
    .where('state', '=', 'scheduled')
    .where('reminder_sent_at', 'is', null)
    .executeTakeFirst();
  return changed(r);
}

export async function claimEndNotice(db: Db, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('account_recoveries')
    .set({ end_notice_sent_at: now })
    .where('id', '=', id)
    .where('state', '=', 'scheduled')
    .where('end_notice_sent_at', 'is', null)
    .where('due_at', '<=', now)
    .executeTakeFirst();
  return changed(r);
}

/** Waits whose reminder or end notice may be due by `horizon` (housekeeping reads only these). */
export async function scheduledRecoveriesDueBy(db: Db, horizon: number): Promise<Recovery[]> {
  const rows = await db
    .selectFrom('account_recoveries')
    .selectAll()
    .where('state', '=', 'scheduled')
    .where('due_at', '<=', horizon)
    .where((eb) => eb.or([eb('reminder_sent_at', 'is', null), eb('end_notice_sent_at', 'is', null)]))
    .execute();
  return rows.map(toRecovery);
}

