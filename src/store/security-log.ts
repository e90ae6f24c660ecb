import type { Kysely } from 'kysely';
import type { RandomSource } from '../core/random.js';
import { randomId } from '../core/random.js';
import type { Database } from './schema.js';

export interface SecurityEvent {
  type: string;
  at: number;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, string | number | boolean> | null;
}

export interface EventInput {
  userId: string;
  type: string;
  at: number;
  ip: string | null;
  userAgent: string | null;
  detail?: Record<string, string | number | boolean> | undefined;
}

export async function recordEvent(db: Kysely<Database>, random: RandomSource, e: EventInput): Promise<void> {
  await db
    .insertInto('security_events')
    .values({
      id: randomId(random),
      user_id: e.userId,
      type: e.type,
      at: e.at,
      ip: e.ip,
      user_agent: e.userAgent,
      detail: e.detail ? JSON.stringify(e.detail) : null,
    })
    .execute();
}

/** Newest first; `before` pages backwards by time. */
export async function listEvents(db: Kysely<Database>, userId: string, limit: number, before?: number): Promise<SecurityEvent[]> {
  let q = db
    .selectFrom('security_events')
    .select(['type', 'at', 'ip', 'user_agent', 'detail'])
    .where('user_id', '=', userId);
  if (before !== undefined) q = q.where('at', '<', before);
  const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    type: r.type,
    at: r.at,
    ip: r.ip,
    userAgent: r.user_agent,
    detail: r.detail ? (JSON.parse(r.detail) as SecurityEvent['detail']) : null,
  }));
}
