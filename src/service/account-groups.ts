import type { Context } from './context.js';

/**
 * The account's groups. Groups (table, CLI, /me) come from the forward-auth issue; until they are
 * merged, no account is in any group.
 */
export async function accountGroups(_ctx: Context, _userId: string): Promise<string[]> {
  return [];
}

export const ADMIN_GROUP = 'admins';

export async function isAdmin(ctx: Context, userId: string): Promise<boolean> {
  return (await accountGroups(ctx, userId)).includes(ADMIN_GROUP);
}

/** Replaces the account's groups; returns them normalised and sorted. */
export async function replaceAccountGroups(_ctx: Context, _userId: string, _groups: string[]): Promise<string[]> {
  throw new Error('groups are not available yet');
}
