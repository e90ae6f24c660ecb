import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface TwoFactorStatus {
  totp: boolean;
  securityKeys: number;
  recoveryCodesRemaining: number;
}

/** What second factors an account has, in one round trip. */
export async function twoFactorStatus(db: Kysely<Database>, userId: string): Promise<TwoFactorStatus> {
  const r = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('totp_credentials')
        .select(eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is not', null)
        .as('totp'),
      eb.selectFrom('security_keys').select(eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).as('keys'),
      eb
        .selectFrom('recovery_codes')
        .select(eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .as('codes'),
    ])
    .executeTakeFirstOrThrow();
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
