import type { Kysely } from 'kysely';
import { randomId, type RandomSource } from '../core/random.js';
import type { Database } from './schema.js';

export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  actorKind: string;
  action: string;
  targetUserId: string | null;
  targetEmail: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, string | number | boolean> | null;
}

let sequence = 0;

/** Ids sort by time, then by order of writing in this process (as security events do). */
function entryId(at: number, random: RandomSource): string {
  sequence = (sequence + 1) % 36 ** 4;
  return at.toString(36).padStart(10, '0') + sequence.toString(36).padStart(4, '0') + randomId(random).slice(0, 8);
}

export async function recordAudit(db: Kysely<Database>, random: RandomSource, e: Omit<AuditEntry, 'id'>): Promise<void> {
  await db
    .insertInto('admin_audit_log')
    .values({
      id: entryId(e.at, random),
      at: e.at,
      actor: e.actor,
      actor_kind: e.actorKind,
      action: e.action,
      target_user_id: e.targetUserId,
      target_email: e.targetEmail,
      ip: e.ip,
      user_agent: e.userAgent,
      detail: e.detail ? JSON.stringify(e.detail) : null,
    })
    .execute();
}

/**
 * Newest first; `before` (a time) pages backwards. Like the security log, a page never ends inside a
 * millisecond: entries sharing the last time all come on that page.
 */
export async function listAudit(db: Kysely<Database>, limit: number, before?: number): Promise<AuditEntry[]> {
  const base = db.selectFrom('admin_audit_log').selectAll();
  const rows = await (before === undefined ? base : base.where('at', '<', before)).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  const last = rows.at(-1);
  if (last && rows.length === limit) rows.push(...(await base.where('at', '=', last.at).where('id', '<', last.id).orderBy('id', 'desc').execute()));
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    actorKind: r.actor_kind,
    action: r.action,
    targetUserId: r.target_user_id,
    targetEmail: r.target_email,
    ip: r.ip,
    userAgent: r.user_agent,
    detail: r.detail ? (JSON.parse(r.detail) as AuditEntry['detail']) : null,
  }));
}
