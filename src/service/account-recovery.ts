import {
  CANCEL_LINK_GRACE_MS,
  canStart,
  confirm,
  DAY_MS,
  endNoticeDue,
  isOpen,
  newRecovery,
  phaseOf,
  RECOVERY_WINDOW_MS,
  reminderDue,
  type CancelReason,
  type Recovery,
  type RecoveryPhase,
} from '../core/account-recovery.js';
import { randomId, randomToken } from '../core/random.js';
import { hashToken, isTokenShaped } from '../core/token.js';
import {
  allOpenRecoveries,
  approveRecoveryNow,
  cancelRecovery,
  claimEndNotice,
  claimReminder,
  completeRecovery,
  deleteRecoveryTokens,
  findRecovery,
  findRecoveryByToken,
  insertRecovery,
  insertRecoveryToken,
  latestRecovery,
  openRecoveriesOf,
  recentRecoveries,
  scheduleRecovery,
  scheduledRecoveriesDueBy,
} from '../store/account-recovery.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../store/two-factor-status.js';
import { findUserById } from '../store/users.js';
import type { Context, RequestMeta } from './context.js';
import { AppError } from './errors.js';
import { enqueueMail } from './mail/outbox.js';
import { linkTo, siteOf } from './mail/notify.js';
import { recoveryMessage, type RecoveryMailKind } from './mail/templates.js';
import { logEvent } from './security-log.js';
import { inTransaction } from './transaction.js';
import { removeSecondFactors } from './two-factor.js';

export const invalidRecoveryToken = () =>
  new AppError(400, 'invalid_token', 'This link is not valid any more: it was used already, has expired, or the recovery has ended.');

/** The recovery of an account as the person (or an administrator) sees it. */
export interface RecoveryView {
  id: string;
  state: RecoveryPhase;
  requestedAt: number;
  confirmExpiresAt: number;
  dueAt: number | null;
  endedAt: number | null;
  cancelReason: CancelReason | null;
}

export function viewOf(r: Recovery, now: number): RecoveryView {
  return { id: r.id, state: phaseOf(r, now), requestedAt: r.requestedAt, confirmExpiresAt: r.confirmExpiresAt, dueAt: r.dueAt, endedAt: r.endedAt, cancelReason: r.cancelReason };
}

/** A new single-use link for one recovery; only its hash is stored. */
async function issueLink(ctx: Context, recoveryId: string, purpose: 'confirm' | 'cancel', expiresAt: number): Promise<string> {
  const token = randomToken(ctx.random);
  await insertRecoveryToken(ctx.db, { tokenHash: hashToken(token), recoveryId, purpose, expiresAt });
  return token;
}

/**
 * Queues one of the recovery's mails in the caller's transaction. Every mail but the confirmation
 * carries a fresh cancel link, so whichever mail the owner reads first is enough to stop it.
 */
async function mailAbout(ctx: Context, r: Recovery, kind: RecoveryMailKind, meta: RequestMeta, confirmToken?: string): Promise<void> {
  const user = await findUserById(ctx.db, r.userId);
  if (!user) return;
  const open = kind === 'confirm' || kind === 'started' || kind === 'reminder' || kind === 'ready';
  const cancelToken = open && kind !== 'confirm' ? await issueLink(ctx, r.id, 'cancel', (r.dueAt ?? ctx.clock.now()) + CANCEL_LINK_GRACE_MS) : undefined;
  const content = recoveryMessage(siteOf(ctx), {
    kind,
    email: user.email,
    event: { at: ctx.clock.now(), ip: meta.ip, userAgent: meta.userAgent },
    dueAt: r.dueAt,
    confirmUrl: confirmToken ? linkTo(ctx, '/account/recovery/confirm', confirmToken) : undefined,
    cancelUrl: cancelToken ? linkTo(ctx, '/account/recovery/cancel', cancelToken) : undefined,
  });
  await enqueueMail(ctx, { userId: r.userId, kind: `account_recovery_${kind}`, to: user.email, content });
}

/**
 * POST /login/recovery: the password was just verified (a pending login), and the person has lost
 * every second factor. Nothing changes yet: a link goes to the account's address.
 */
export async function startRecovery(ctx: Context, userId: string, meta: RequestMeta): Promise<RecoveryView> {
  const now = ctx.clock.now();
  if (!isTwoFactorEnabled(await twoFactorStatus(ctx.db, userId))) {
    throw new AppError(409, 'two_factor_not_enabled', 'This account has no second factor to recover. Log in with your password.');
  }
  const decision = canStart(await recentRecoveries(ctx.db, userId, now - RECOVERY_WINDOW_MS), now);
  if (!decision.ok) {
    if (decision.reason === 'in_progress') throw new AppError(409, 'recovery_in_progress', 'An account recovery is already under way for this account. Check your email.');
    const s = Math.ceil(decision.retryAfterMs / 1000);
    throw new AppError(429, 'too_many_recoveries', 'Account recovery was started three times in the last 30 days. Ask your administrator for help.', { 'retry-after': String(s) });
  }
  const r = newRecovery({ id: randomId(ctx.random), userId }, now);
  await inTransaction(ctx, async (t) => {
    await insertRecovery(t.db, r, meta);
    const token = await issueLink(t, r.id, 'confirm', r.confirmExpiresAt);
    await mailAbout(t, r, 'confirm', meta, token);
    await logEvent(t, userId, 'account_recovery_requested', meta);
  });
  return viewOf(r, now);
}

/** The mailed link: the wait of TWOFOLD_RECOVERY_DELAY starts now. */
export async function confirmRecovery(ctx: Context, token: string, meta: RequestMeta): Promise<RecoveryView> {
  if (!isTokenShaped(token)) throw invalidRecoveryToken();
  const now = ctx.clock.now();
  const r = await findRecoveryByToken(ctx.db, hashToken(token), 'confirm', now);
  if (!r) throw invalidRecoveryToken();
  const next = confirm(r, now, ctx.config.recoveryDelayMs);
  if (!next.ok) throw invalidRecoveryToken();
  const won = await inTransaction(ctx, async (t) => {
    if (!(await scheduleRecovery(t.db, r.id, now, next.extra.dueAt))) return false;
    await deleteRecoveryTokens(t.db, r.id, 'confirm');
    await mailAbout(t, next.recovery, 'started', meta);
    await logEvent(t, r.userId, 'account_recovery_scheduled', meta, { dueAt: new Date(next.extra.dueAt).toISOString() });
    return true;
  });
  if (!won) throw invalidRecoveryToken();
  return viewOf(next.recovery, now);
}

/** What the cancel page shows before the button is pressed; null when the link is dead. */
export async function recoveryForCancelLink(ctx: Context, token: string): Promise<RecoveryView | null> {
  if (!isTokenShaped(token)) return null;
  const now = ctx.clock.now();
  const r = await findRecoveryByToken(ctx.db, hashToken(token), 'cancel', now);
  return r && isOpen(r, now) ? viewOf(r, now) : null;
}

async function cancelOne(ctx: Context, r: Recovery, reason: CancelReason, meta: RequestMeta): Promise<boolean> {
  const now = ctx.clock.now();
  return inTransaction(ctx, async (t) => {
    if (!(await cancelRecovery(t.db, r.id, now, reason))) return false;
    await deleteRecoveryTokens(t.db, r.id);
    await mailAbout(t, { ...r, state: 'cancelled', endedAt: now, cancelReason: reason }, 'cancelled', meta);
    await logEvent(t, r.userId, 'account_recovery_cancelled', meta, { reason });
    return true;
  });
}

export async function cancelRecoveryByLink(ctx: Context, token: string, meta: RequestMeta): Promise<void> {
  if (!isTokenShaped(token)) throw invalidRecoveryToken();
  const r = await findRecoveryByToken(ctx.db, hashToken(token), 'cancel', ctx.clock.now());
  if (!r || !(await cancelOne(ctx, r, 'link', meta))) throw invalidRecoveryToken();
}

/**
 * Any sign-in that proved a second factor shows the owner still has one: an open recovery of the
 * account ends. Called by every flow that verifies a factor of a person.
 */
export async function cancelRecoveriesOnSecondFactor(ctx: Context, userId: string, meta: RequestMeta): Promise<void> {
  const now = ctx.clock.now();
  for (const r of await openRecoveriesOf(ctx.db, userId)) {
    if (isOpen(r, now)) await cancelOne(ctx, r, 'second_factor_sign_in', meta);
  }
}

/**
 * At a password login: a recovery whose wait is over completes now. Every factor, recovery code,
 * trusted device and session of the account goes, in one transaction with the state change, so
 * that of racing logins on any nodes exactly one does it. Returns whether it completed one.
 */
export async function completeDueRecovery(ctx: Context, userId: string, meta: RequestMeta): Promise<boolean> {
  const now = ctx.clock.now();
  const due = (await openRecoveriesOf(ctx.db, userId)).find((r) => phaseOf(r, now) === 'ready');
  if (!due) return false;
  return inTransaction(ctx, async (t) => {
    if (!(await completeRecovery(t.db, due.id, now))) return false;
    await deleteRecoveryTokens(t.db, due.id);
    // Every factor, code and trusted device goes, and every session ends (one generation step), so
    // no login racing with this one outlives it.
    await removeSecondFactors(t, userId, meta, 'account_recovery');
    await mailAbout(t, { ...due, state: 'completed', endedAt: now }, 'completed', meta);
    await logEvent(t, userId, 'account_recovery_completed', meta);
    return true;
  });
}

/** GET /me/recovery: the newest recovery of the account, or null. */
export async function currentRecovery(ctx: Context, userId: string): Promise<RecoveryView | null> {
  const r = await latestRecovery(ctx.db, userId);
  return r ? viewOf(r, ctx.clock.now()) : null;
}

/** Housekeeping, on every node: the reminder 24 h before the end and the notice at the end, once each. */
export async function sendDueRecoveryNotices(ctx: Context): Promise<number> {
  const now = ctx.clock.now();
  const meta = { ip: null, userAgent: null };
  let sent = 0;
  for (const r of await scheduledRecoveriesDueBy(ctx.db, now + DAY_MS)) {
    if (reminderDue(r, now)) {
      const ok = await inTransaction(ctx, async (t) => (await claimReminder(t.db, r.id, now)) && (await mailAbout(t, r, 'reminder', meta), true));
      if (ok) sent++;
    }
    if (endNoticeDue(r, now)) {
      const ok = await inTransaction(ctx, async (t) => (await claimEndNotice(t.db, r.id, now)) && (await mailAbout(t, r, 'ready', meta), true));
      if (ok) sent++;
    }
  }
  return sent;
}

// Administrators (SPEC §12: "or an administrator").

/** The recovery of the account still under way (requested, waiting or ready), or null. */
export async function openRecoveryFor(ctx: Context, userId: string): Promise<RecoveryView | null> {
  const now = ctx.clock.now();
  const r = (await openRecoveriesOf(ctx.db, userId)).find((x) => isOpen(x, now));
  return r ? viewOf(r, now) : null;
}

export async function listOpenRecoveries(ctx: Context): Promise<(RecoveryView & { userId: string; email: string })[]> {
  const now = ctx.clock.now();
  return (await allOpenRecoveries(ctx.db)).filter((r) => isOpen(r, now)).map((r) => ({ ...viewOf(r, now), userId: r.userId, email: r.email }));
}

async function openRecoveryById(ctx: Context, id: string): Promise<Recovery> {
  const r = await findRecovery(ctx.db, id);
  if (!r || !isOpen(r, ctx.clock.now())) throw new AppError(404, 'not_found', 'There is no account recovery under way with this id.');
  return r;
}

export async function adminCancelRecovery(ctx: Context, id: string, meta: RequestMeta): Promise<Recovery> {
  const r = await openRecoveryById(ctx, id);
  if (!(await cancelOne(ctx, r, 'administrator', meta))) throw new AppError(404, 'not_found', 'There is no account recovery under way with this id.');
  return r;
}

/** Ends the wait at once; the person still finishes it by logging in with the password. */
export async function adminApproveRecovery(ctx: Context, id: string, meta: RequestMeta): Promise<Recovery> {
  const r = await openRecoveryById(ctx, id);
  if (r.state !== 'scheduled') throw new AppError(409, 'recovery_not_confirmed', 'The person has not confirmed this recovery from their email yet.');
  const now = ctx.clock.now();
  await inTransaction(ctx, async (t) => {
    if (!(await approveRecoveryNow(t.db, r.id, now))) return;
    await logEvent(t, r.userId, 'account_recovery_approved', meta);
  });
  return r;
}
