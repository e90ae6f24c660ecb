import { adminApproveRecovery, adminCancelRecovery, openRecoveryFor } from '../account-recovery.js';
import { isTwoFactorEnabled, methodsOf, twoFactorStatus, type SecondFactorMethod } from '../../store/two-factor-status.js';
import { deleteMailOf, deleteUser, findUserRow, searchUsers, setLocked, type UserRow } from '../../store/account-admin.js';
import { listAudit, recordAudit, type AuditEntry } from '../../store/admin-audit.js';
import { lastLoginTimes } from '../../store/session-list.js';
import { accountGroups, replaceAccountGroups } from '../account-groups.js';
import type { Context, RequestMeta } from '../context.js';
import { endEverySession } from '../end-sessions.js';
import { AppError, notFound } from '../errors.js';
import { logEvent, type SecurityEventType } from '../security-log.js';
import { removeSecondFactors } from '../two-factor.js';
import { notifyAdminAction } from './notify.js';
import { inTransaction } from '../transaction.js';

/** Who acts: an administrator's session, an admin token, or the operator's CLI. */
export interface Actor {
  kind: 'session' | 'token' | 'cli';
  /** The administrator's email, the token's name, or "twofold CLI". */
  name: string;
  meta: RequestMeta;
}

export const CLI_ACTOR: Actor = { kind: 'cli', name: 'twofold CLI', meta: { ip: null, userAgent: 'twofold CLI' } };

export type AdminAction = 'lock' | 'unlock' | 'reset_2fa' | 'revoke_sessions' | 'set_groups' | 'delete' | 'cancel_recovery' | 'approve_recovery';

export interface AdminUserView {
  id: string;
  email: string;
  groups: string[];
  twoFactor: { enabled: boolean; methods: SecondFactorMethod[] };
  lastLoginAt: string | null;
  locked: boolean;
  createdAt: string;
}

async function views(ctx: Context, rows: UserRow[]): Promise<AdminUserView[]> {
  const last = await lastLoginTimes(ctx.db, rows.map((r) => r.id));
  return Promise.all(
    rows.map(async (r) => {
      const [status, groups] = await Promise.all([twoFactorStatus(ctx.db, r.id), accountGroups(ctx, r.id)]);
      const at = last.get(r.id);
      return {
        id: r.id,
        email: r.email,
        groups,
        twoFactor: { enabled: isTwoFactorEnabled(status), methods: methodsOf(status) },
        lastLoginAt: at === undefined ? null : new Date(at).toISOString(),
        locked: r.lockedAt !== null,
        createdAt: new Date(r.createdAt).toISOString(),
      };
    }),
  );
}

export async function searchAccounts(ctx: Context, opts: { q: string; limit: number; before?: string | undefined }): Promise<AdminUserView[]> {
  return views(ctx, await searchUsers(ctx.db, opts));
}

export async function getAccount(ctx: Context, userId: string): Promise<AdminUserView> {
  const row = await findUserRow(ctx.db, userId);
  if (!row) throw notFound('That account');
  return (await views(ctx, [row]))[0]!;
}

async function target(ctx: Context, userId: string): Promise<UserRow> {
  const row = await findUserRow(ctx.db, userId);
  if (!row) throw notFound('That account');
  return row;
}

/**
 * The three records of every admin action, in one transaction: the person's security log, the
 * audit log, and the mail to the person (queued in the outbox only if the records commit).
 */
async function record(ctx: Context, actor: Actor, user: UserRow, action: AdminAction, event: SecurityEventType | null, detail?: Record<string, string | number | boolean>) {
  await inTransaction(ctx, async (t) => {
    if (event) await logEvent(t, user.id, event, actor.meta, { by: actor.kind === 'cli' ? 'operator' : 'administrator', ...detail });
    await audit(t, actor, user, action, detail);
    await notifyAdminAction(t, { userId: user.id }, action, actor.meta);
  });
}

async function audit(t: Context, actor: Actor, user: UserRow, action: AdminAction, detail?: Record<string, string | number | boolean>) {
  await recordAudit(t.db, t.random, {
    at: t.clock.now(),
    actor: actor.name,
    actorKind: actor.kind,
    action,
    targetUserId: user.id,
    targetEmail: user.email,
    ip: actor.meta.ip,
    userAgent: actor.meta.userAgent,
    detail: detail ?? null,
  });
}

/** Locks the account and ends its sessions and trusted devices in one change. */
export async function lockAccount(ctx: Context, actor: Actor, userId: string): Promise<void> {
  const user = await target(ctx, userId);
  let changed = false;
  await endEverySession(ctx, user.id, actor.meta, {
    because: 'account_locked',
    before: async (tx) => {
      changed = await setLocked(tx, user.id, ctx.clock.now());
    },
  });
  if (changed) await record(ctx, actor, user, 'lock', 'account_locked');
}

export async function unlockAccount(ctx: Context, actor: Actor, userId: string): Promise<void> {
  const user = await target(ctx, userId);
  if (await setLocked(ctx.db, user.id, null)) await record(ctx, actor, user, 'unlock', 'account_unlocked');
}

/** For a person who lost both device and codes: every second factor and trusted device goes. */
export async function resetAccountTwoFactor(ctx: Context, actor: Actor, userId: string): Promise<{ wasEnabled: boolean }> {
  const user = await target(ctx, userId);
  const wasEnabled = isTwoFactorEnabled(await twoFactorStatus(ctx.db, user.id));
  await removeSecondFactors(ctx, user.id, actor.meta, 'admin_reset');
  await record(ctx, actor, user, 'reset_2fa', 'admin_two_factor_reset', { wasEnabled });
  return { wasEnabled };
}

export async function signOutEverywhere(ctx: Context, actor: Actor, userId: string): Promise<void> {
  const user = await target(ctx, userId);
  await endEverySession(ctx, user.id, actor.meta, { because: 'admin_sessions_revoked' });
  await record(ctx, actor, user, 'revoke_sessions', 'admin_sessions_revoked');
}

export async function setAccountGroups(ctx: Context, actor: Actor, userId: string, groups: string[]): Promise<string[]> {
  const user = await target(ctx, userId);
  const before = await accountGroups(ctx, user.id);
  // replaceGroups writes the person's security log entry itself.
  const after = await replaceAccountGroups(ctx, user.id, groups, actor.meta);
  if (before.join(',') !== after.join(',')) await record(ctx, actor, user, 'set_groups', null, { groups: after.join(',') });
  return after;
}

/**
 * Removes the account and everything of it; the audit log keeps the record. The person is told
 * first, in the same transaction (the outbox does not reference the account, so the message stays).
 */
export async function deleteAccount(ctx: Context, actor: Actor, userId: string): Promise<void> {
  const user = await target(ctx, userId);
  await inTransaction(ctx, async (t) => {
    await deleteMailOf(t.db, user.id);
    await notifyAdminAction(t, { userId: user.id }, 'delete', actor.meta);
    if (!(await deleteUser(t.db, user.id))) throw notFound('That account');
    await audit(t, actor, user, 'delete');
  });
}

const noRecovery = () => new AppError(404, 'not_found', 'This account has no account recovery under way.');

/** SPEC §12: an administrator cancels a self-service recovery (the person is mailed by the recovery itself). */
export async function cancelAccountRecovery(ctx: Context, actor: Actor, userId: string): Promise<void> {
  const user = await target(ctx, userId);
  const open = await openRecoveryFor(ctx, user.id);
  if (!open) throw noRecovery();
  await adminCancelRecovery(ctx, open.id, actor.meta);
  await record(ctx, actor, user, 'cancel_recovery', null, { recovery: open.id });
}

/** SPEC §12: an administrator ends the wait at once; the person finishes by logging in with the password. */
export async function approveAccountRecovery(ctx: Context, actor: Actor, userId: string): Promise<void> {
  const user = await target(ctx, userId);
  const open = await openRecoveryFor(ctx, user.id);
  if (!open) throw noRecovery();
  await adminApproveRecovery(ctx, open.id, actor.meta);
  await record(ctx, actor, user, 'approve_recovery', null, { recovery: open.id });
}

export function auditLog(ctx: Context, limit: number, before?: number): Promise<AuditEntry[]> {
  return listAudit(ctx.db, limit, before);
}

export const invalidGroups = (message: string) => new AppError(400, 'invalid_groups', message);
