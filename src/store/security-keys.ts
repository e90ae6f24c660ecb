import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export async function deleteUserSecurityKeys(db: Kysely<Database>, userId: string): Promise<number> {
  const r = await db.deleteFrom('security_keys').where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
