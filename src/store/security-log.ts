import type { Kysely } from 'kysely';
import type { RandomSource } from '../core/random.js';
import { randomId } from '../core/random.js';
import { affected, arg, prepare } from './prepared.js';
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

let sequence = 0;

/**
 * Ids sort by time, then by order of writing within this process, so the events one request writes
 * in the same millisecond (a recovery-code login writes several) list in the order they happened.
 */
function eventId(at: number, random: RandomSource): string {
  sequence = (sequence + 1) % 36 ** 4;
  return at.toString(36).padStart(10, '0') + sequence.toString(36).padStart(4, '0') + randomId(random).slice(0, 8);
}

const insertEvent = prepare<[id: string, userId: string, type: string, at: number, ip: string | null, userAgent: string | null, detail: string | null], unknown>((db) =>
  db.insertInto('security_events').values({
    id: arg<string>(0),
    user_id: arg<string>(1),
    type: arg<string>(2),
    at: arg<number>(3),
    ip: arg<string | null>(4),
    user_agent: arg<string | null>(5),
    detail: arg<string | null>(6),
  }),
);

/** Returns the event's id (a notice's "This wasn't me" link is bound to it). */
export async function recordEvent(db: Kysely<Database>, random: RandomSource, e: EventInput): Promise<string> {
  const id = eventId(e.at, random);
  await affected(db, insertEvent(db, id, e.userId, e.type, e.at, e.ip, e.userAgent, e.detail ? JSON.stringify(e.detail) : null));
  return id;
}

/**
 * Newest first; `before` pages backwards by time. The cursor is a time alone (SPEC §5), so a page
 * never ends inside a millisecond: events sharing the last event's time all come on that page,
 * which may then hold a few more than `limit`, and the next page skips none.
 */
export async function listEvents(db: Kysely<Database>, userId: string, limit: number, before?: number): Promise<SecurityEvent[]> {
  const base = db.selectFrom('security_events').select(['id', 'type', 'at', 'ip', 'user_agent', 'detail']).where('user_id', '=', userId);
  const rows = await (before === undefined ? base : base.where('at', '<', before)).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  const last = rows.at(-1);
  if (last && rows.length === limit) {
    const ties = await base.where('at', '=', last.at).where('id', '<', last.id).orderBy('id', 'desc').execute();
    rows.push(...ties);
  }
  return rows.map((r) => ({
    type: r.type,
    at: r.at,
    ip: r.ip,
    userAgent: r.user_agent,
    detail: r.detail ? (JSON.parse(r.detail) as SecurityEvent['detail']) : null,
  }));
}
