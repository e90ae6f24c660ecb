import type { Kysely } from 'kysely';
import { arg, first, prepare } from './prepared.js';
import type { Database } from './schema.js';

export interface TwoFactorStatus {
  totp: boolean;
  securityKeys: number;
  recoveryCodesRemaining: number;
}

const statusQuery = prepare<[userId: string], { totp: number | string; keys: number | string; codes: number | string }>((db) =>
  db.selectNoFrom((eb) => [
    eb
      .selectFrom('totp_credentials')
      .select(eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', arg<string>(0))
      .where('confirmed_at', 'is not', null)
      .as('totp'),
    eb.selectFrom('security_keys').select(eb.fn.countAll<number>().as('n')).where('user_id', '=', arg<string>(0)).as('keys'),
    // Counted from the partial index of unused codes (migration 005), not by reading each code.
    eb
      .selectFrom('recovery_codes')
      .select(eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', arg<string>(0))
      .where('used_at', 'is', null)
      .as('codes'),
  ]),
);

/** What second factors an account has, in one round trip (a prepared statement: GET /me runs it). */
export async function twoFactorStatus(db: Kysely<Database>, userId: string): Promise<TwoFactorStatus> {
  const r = await first(db, statusQuery(db, userId));
  if (!r) throw new Error('two-factor status query returned no row');
  return { totp: Number(r.totp) > 0, securityKeys: Number(r.keys), recoveryCodesRemaining: Number(r.codes) };
}

export function isTwoFactorEnabled(s: TwoFactorStatus): boolean {
  return s.totp || s.securityKeys > 0;
}

export type SecondFactorMethod = 'totp' | 'webauthn' | 'recovery_code';

export function methodsOf(s: TwoFactorStatus): SecondFactorMethod[] {
  const methods: SecondFactorMethod[] = [];
  if (s.totp) methods.push('totp');
  if (s.securityKeys > 0) methods.push('webauthn');
  if (isTwoFactorEnabled(s) && s.recoveryCodesRemaining > 0) methods.push('recovery_code');
  return methods;
}
