import type { Account } from 'oidc-provider';
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
        // Twofold does not verify addresses yet (SPEC §7 will): never claim what was not checked.
        email_verified: false,
        name: user.email,
        preferred_username: user.email,
        groups: await groupsOf(ctx, user.id),
      };
    },
  };
}

/** Groups arrive with forward authentication (SPEC §8); until then nobody is in any group. */
async function groupsOf(_ctx: Context, _userId: string): Promise<string[]> {
  return [];
}
