import { sql, type Kysely } from 'kysely';
import { MAX_WAIT_MS, waitMs } from '../core/password-throttle.js';
import type { Database } from './schema.js';

/** core/password-throttle.ts's schedule for a budget of `free` as SQL over the stored count. */
function waitSql(free: number) {
  const column = 'password_attempts.failures';
  const arms: string[] = [];
  for (let f = free; waitMs(f, free) < MAX_WAIT_MS; f++) arms.push(`WHEN ${column} = ${f} THEN ${waitMs(f, free)}`);
  return sql.raw(`(CASE WHEN ${column} < ${free} THEN 0 ${arms.join(' ')} ELSE ${MAX_WAIT_MS} END)`);
}

const WAIT_BY_BUDGET = new Map<number, ReturnType<typeof waitSql>>();
function waitFor(free: number) {
  let w = WAIT_BY_BUDGET.get(free);
  if (!w) WAIT_BY_BUDGET.set(free, (w = waitSql(free)));
  return w;
}

export interface PasswordAttempts {
  failures: number;
  lastFailureAt: number;
}

export async function findPasswordAttempts(db: Kysely<Database>, key: string): Promise<PasswordAttempts | null> {
  const r = await db.selectFrom('password_attempts').select(['failures', 'last_failure_at']).where('key', '=', key).executeTakeFirst();
  return r ? { failures: Number(r.failures), lastFailureAt: Number(r.last_failure_at) } : null;
}

/**
 * Claims the right to check one password against `key`'s budget: counts it as a failure up front, in
 * one conditional write that succeeds only while no wait is running. However many guesses arrive at
 * once, on however many nodes, no more than the budget are checked. Returns the count including
 * this attempt, or null while a wait runs.
 */
export async function claimPasswordAttempt(db: Kysely<Database>, key: string, free: number, now: number): Promise<number | null> {
  const r = await db
    .insertInto('password_attempts')
    .values({ key, failures: 1, last_failure_at: now })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({ failures: sql`password_attempts.failures + 1`, last_failure_at: now })
        .where(sql<boolean>`(password_attempts.failures < ${sql.lit(free)} OR password_attempts.last_failure_at + ${waitFor(free)} <= ${now})`),
    )
    .returning('failures')
    .executeTakeFirst();
  return r ? Number(r.failures) : null;
}

export async function clearPasswordAttempts(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('password_attempts').where('key', '=', key).execute();
}

/** Counts that stopped a day ago are forgotten (housekeeping): unknown addresses must not pile up. */
export async function deleteStalePasswordAttempts(db: Kysely<Database>, before: number): Promise<void> {
  await db.deleteFrom('password_attempts').where('last_failure_at', '<', before).execute();
}
