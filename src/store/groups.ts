import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export async function listGroups(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_groups').select('name').where('user_id', '=', userId).orderBy('name').execute();
  return rows.map((r) => r.name);
}

/** Names must already be normalised (core/groups.ts). Adding a group the account has is a no-op. */
export async function addGroups(db: Kysely<Database>, userId: string, names: readonly string[], now: number): Promise<void> {
  if (names.length === 0) return;
  await db
    .insertInto('user_groups')
    .values(names.map((name) => ({ user_id: userId, name, created_at: now })))
    .onConflict((oc) => oc.columns(['user_id', 'name']).doNothing())
    .execute();
}

export async function removeGroups(db: Kysely<Database>, userId: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await db.deleteFrom('user_groups').where('user_id', '=', userId).where('name', 'in', names).execute();
}

/** Replaces the account's groups with exactly `names`, in one transaction. */
export async function setGroups(db: Kysely<Database>, userId: string, names: readonly string[], now: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    let del = tx.deleteFrom('user_groups').where('user_id', '=', userId);
    if (names.length > 0) del = del.where('name', 'not in', names);
    await del.execute();
    await addGroups(tx, userId, names, now);
  });
}

/** Groups of several accounts at once (lists), keyed by user id. */
export async function groupsOfUsers(db: Kysely<Database>, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return out;
  const rows = await db.selectFrom('user_groups').select(['user_id', 'name']).where('user_id', 'in', userIds).orderBy('name').execute();
  for (const r of rows) out.get(r.user_id)?.push(r.name);
  return out;
}
