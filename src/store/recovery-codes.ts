import type { Kysely } from 'kysely';
import { pendingLogin } from './sessions.js';
import type { Database } from './schema.js';

export interface StoredRecoveryCode {
  id: string;
  position: number;
  codeMac: string;
  codeEnc: string | null;
  usedAt: number | null;
}

/** Regeneration: every old code dies in the same transaction that stores the new set. */
export async function replaceRecoveryCodes(db: Kysely<Database>, userId: string, codes: StoredRecoveryCode[], now: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    await tx
      .insertInto('recovery_codes')
      .values(
        codes.map((c) => ({
          id: c.id,
          user_id: userId,
          position: c.position,
          code_mac: c.codeMac,
          code_enc: c.codeEnc,
          used_at: null,
          created_at: now,
        })),
      )
      .execute();
  });
}

export async function listRecoveryCodes(db: Kysely<Database>, userId: string): Promise<(StoredRecoveryCode & { createdAt: number })[]> {
  const rows = await db.selectFrom('recovery_codes').selectAll().where('user_id', '=', userId).orderBy('position').execute();
  return rows.map((r) => ({ id: r.id, position: r.position, codeMac: r.code_mac, codeEnc: r.code_enc, usedAt: r.used_at, createdAt: r.created_at }));
}

/**
 * Single use under any concurrency: only the request whose UPDATE flips used_at wins. `codeMacs`
 * are the code's keyed hashes under the current and any previous secret. With `pendingSessionId`,
 * the code is used only while that pending login is still there (see acceptTotpStep).
 */
export async function consumeRecoveryCode(db: Kysely<Database>, userId: string, codeMacs: string[], now: number, pendingSessionId?: string): Promise<boolean> {
  let q = db.updateTable('recovery_codes').set({ used_at: now }).where('user_id', '=', userId).where('code_mac', 'in', codeMacs).where('used_at', 'is', null);
  if (pendingSessionId !== undefined) {
    q = q.where((eb) => eb.exists(pendingLogin(db, pendingSessionId)));
  }
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deleteRecoveryCodes(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
}
