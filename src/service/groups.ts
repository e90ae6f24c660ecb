import { GROUP_NAME_RULE, GROUPS_PER_ACCOUNT_MAX, parseGroupName, sortGroups } from '../core/groups.js';
import { addGroups, listGroups, removeGroups, setGroups } from '../store/groups.js';
import { findUserByEmail } from '../store/users.js';
import type { Context, RequestMeta } from './context.js';
import { AppError, notFound } from './errors.js';
import { logEvent } from './security-log.js';

export const invalidGroup = (input: string) => new AppError(400, 'invalid_group', `"${input.slice(0, 80)}" is not a group name: ${GROUP_NAME_RULE}.`, {}, 'groups');

/** Normalises every name or refuses the whole list (nothing is changed by a half-valid request). */
export function parseGroupNames(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    const name = parseGroupName(input);
    if (!name) throw invalidGroup(input);
    out.push(name);
  }
  return sortGroups(out);
}

export interface GroupChange {
  add?: readonly string[];
  remove?: readonly string[];
}

/**
 * Adds and removes groups of one account and returns the resulting groups. A name both added and
 * removed ends up removed. Live sessions see the change at their next request, since the
 * forward-auth decision reads groups with the session.
 */
export async function changeGroups(ctx: Context, userId: string, change: GroupChange, meta: RequestMeta): Promise<string[]> {
  const add = parseGroupNames(change.add ?? []);
  const remove = parseGroupNames(change.remove ?? []);
  const before = await listGroups(ctx.db, userId);
  const toAdd = add.filter((g) => !remove.includes(g) && !before.includes(g));
  const toRemove = remove.filter((g) => before.includes(g));
  if (before.length + toAdd.length - toRemove.length > GROUPS_PER_ACCOUNT_MAX) {
    throw new AppError(400, 'too_many_groups', `An account can be in at most ${GROUPS_PER_ACCOUNT_MAX} groups.`, {}, 'groups');
  }
  await removeGroups(ctx.db, userId, toRemove);
  await addGroups(ctx.db, userId, toAdd, ctx.clock.now());
  if (toAdd.length > 0 || toRemove.length > 0) {
    await logEvent(ctx, userId, 'groups_changed', meta, { added: toAdd.join(','), removed: toRemove.join(',') });
  }
  return listGroups(ctx.db, userId);
}

/** Sets exactly these groups (the admin API's PUT); returns them. */
export async function replaceGroups(ctx: Context, userId: string, groups: readonly string[], meta: RequestMeta): Promise<string[]> {
  const wanted = parseGroupNames(groups);
  if (wanted.length > GROUPS_PER_ACCOUNT_MAX) throw new AppError(400, 'too_many_groups', `An account can be in at most ${GROUPS_PER_ACCOUNT_MAX} groups.`, {}, 'groups');
  const before = await listGroups(ctx.db, userId);
  await setGroups(ctx.db, userId, wanted, ctx.clock.now());
  const added = wanted.filter((g) => !before.includes(g));
  const removed = before.filter((g) => !wanted.includes(g));
  if (added.length > 0 || removed.length > 0) {
    await logEvent(ctx, userId, 'groups_changed', meta, { added: added.join(','), removed: removed.join(',') });
  }
  return wanted;
}

/** The operator command: by email, as `users reset-2fa`. */
export async function changeGroupsByEmail(ctx: Context, email: string, change: GroupChange): Promise<{ email: string; groups: string[] }> {
  const user = await findUserByEmail(ctx.db, email.trim().toLowerCase());
  if (!user) throw notFound(`An account for ${email.trim()}`);
  const groups = await changeGroups(ctx, user.id, change, { ip: null, userAgent: 'twofold CLI' });
  return { email: user.email, groups };
}
