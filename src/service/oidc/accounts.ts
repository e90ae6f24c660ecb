import type { Account } from 'oidc-provider';
import { listGroups } from '../../store/groups.js';
import { findUserById } from '../../store/users.js';
import type { Context } from '../context.js';

/**
 * The person behind a `sub`, and the claims each scope releases. `sub` is the account's random id:
 * stable for the life of the account and meaningless outside Twofold.
 */
export async function oidcAccount(ctx: Context, sub: string): Promise<Account | undefined> {
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) return undefined;
  const user = await findUserById(ctx.db, sub);
  if (!user) return undefined;
  return {
    accountId: user.id,
    async claims() {
      return {
        sub: user.id,
        email: user.email,
        // True only once a link sent to the address was opened (SPEC §7).
        email_verified: user.emailVerifiedAt != null,
        name: user.email,
        preferred_username: user.email,
        groups: await listGroups(ctx.db, user.id),
      };
    },
  };
}
