import { sql, type Kysely } from 'kysely';
import { lockDurationMs, MAX_FAILURES, MAX_LOCK_MS, type FailedAttempts } from '../core/lockout.js';
import { affected, arg, first, prepare } from './prepared.js';
import type { Database } from './schema.js';

/**
 * The lock schedule of core/lockout.ts as a SQL expression over the stored failure count, built once
 * from the same function so the two cannot drift apart.
 */
function lockDurationSql(column: string) {
  const arms: string[] = [];
  let f = MAX_FAILURES;
  for (; lockDurationMs(f) < MAX_LOCK_MS; f++) arms.push(`WHEN ${column} = ${f} THEN ${lockDurationMs(f)}`);
  return sql.raw(`(CASE WHEN ${column} < ${MAX_FAILURES} THEN 0 ${arms.join(' ')} ELSE ${MAX_LOCK_MS} END)`);
}

const LOCK_OF_EXISTING = lockDurationSql('second_factor_attempts.failures');

export async function findAttempts(db: Kysely<Database>, userId: string): Promise<FailedAttempts | null> {
  const r = await db.selectFrom('second_factor_attempts').select(['failures', 'last_failure_at']).where('user_id', '=', userId).executeTakeFirst();
  return r ? { failures: r.failures, lastFailureAt: r.last_failure_at } : null;
}

/**
 * Claims the right to check one guess: counts it as a failure up front, in one atomic write that
 * only succeeds while the account is not locked. A success then clears the count. So however many
 * requests arrive at once, on however many nodes, at most MAX_FAILURES guesses are checked before
 * the lock holds. Returns the failure count including this attempt, or null when locked.
 */
const claim = prepare<[userId: string, now: number], { failures: number }>((db) =>
  db
    .insertInto('second_factor_attempts')
    .values({ user_id: arg<string>(0), failures: 1, last_failure_at: arg<number>(1) })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ failures: sql`second_factor_attempts.failures + 1`, last_failure_at: arg<number>(1) })
        .where(
          sql<boolean>`(second_factor_attempts.failures < ${sql.lit(MAX_FAILURES)} OR second_factor_attempts.last_failure_at + ${LOCK_OF_EXISTING} <= ${arg<number>(1)})`,
        ),
    )
    .returning('failures'),
);

export async function claimAttempt(db: Kysely<Database>, userId: string, now: number): Promise<number | null> {
  const r = await first(db, claim(db, userId, now));
  return r ? Number(r.failures) : null;
}

const clear = prepare<[userId: string], unknown>((db) => db.deleteFrom('second_factor_attempts').where('user_id', '=', arg<string>(0)));

export async function clearAttempts(db: Kysely<Database>, userId: string): Promise<void> {
  await affected(db, clear(db, userId));
}
