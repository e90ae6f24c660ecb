import { listGroups } from '../store/groups.js';
import type { Context, RequestMeta } from './context.js';
import { replaceGroups } from './groups.js';

/** The account's groups (SPEC §8), sorted. */
export function accountGroups(ctx: Context, userId: string): Promise<string[]> {
  return listGroups(ctx.db, userId);
}

/** Administrators are the members of this group (SPEC §9). */
export const ADMIN_GROUP = 'admins';

export async function isAdmin(ctx: Context, userId: string): Promise<boolean> {
  return (await accountGroups(ctx, userId)).includes(ADMIN_GROUP);
}

/** Replaces the account's groups (refusing the whole list if one name is bad); returns them normalised and sorted. */
export function replaceAccountGroups(ctx: Context, userId: string, groups: string[], meta: RequestMeta): Promise<string[]> {
  return replaceGroups(ctx, userId, groups, meta);
}
