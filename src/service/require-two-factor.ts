import { ruleApplies, twoFactorDemand, type TwoFactorDemand } from '../core/require-two-factor.js';
import { accountFlags, markTwoFactorRequired } from '../store/account-admin.js';
import { isTwoFactorEnabled, twoFactorStatus, type TwoFactorStatus } from '../store/two-factor-status.js';
import type { Context } from './context.js';
import { AppError } from './errors.js';
import { accountGroups } from './account-groups.js';

export const twoFactorSetupRequired = () =>
  new AppError(403, 'two_factor_setup_required', 'Set up two-factor authentication first: this service requires it for your account.');

export const twoFactorRequired = () =>
  new AppError(409, 'two_factor_required', 'Two-factor authentication is required for your account, so its last method cannot be removed. Add another method first.');

/** Whether TWOFOLD_REQUIRE_2FA applies to the account; the first time it does, that moment is stored. */
async function requiredSince(ctx: Context, userId: string): Promise<number | null | 'n/a'> {
  const rule = ctx.config.requireTwoFactor;
  if (rule.kind === 'off') return 'n/a';
  if (!ruleApplies(rule, rule.kind === 'group' ? await accountGroups(ctx, userId) : [])) return 'n/a';
  const flags = await accountFlags(ctx.db, userId);
  if (!flags) return 'n/a';
  return flags.twoFactorRequiredSince ?? (await markTwoFactorRequired(ctx.db, userId, ctx.clock.now()));
}

/**
 * Stores the moment the rule first applies to the account, if it does now: called at account
 * creation and at each login, so the grace period starts then and not at some later request.
 */
export async function noteTwoFactorRule(ctx: Context, userId: string): Promise<void> {
  if (ctx.config.requireTwoFactor.kind !== 'off') await requiredSince(ctx, userId);
}

/** What the required-2FA rule asks of this account now (nothing, a setup by a deadline, or setup only). */
export async function twoFactorDemandOf(ctx: Context, userId: string, status?: TwoFactorStatus): Promise<TwoFactorDemand> {
  const since = await requiredSince(ctx, userId);
  if (since === 'n/a') return { state: 'none' };
  const enabled = isTwoFactorEnabled(status ?? (await twoFactorStatus(ctx.db, userId)));
  return twoFactorDemand({ applies: true, enabled, since, graceMs: ctx.config.requireTwoFactorGraceMs, now: ctx.clock.now() });
}

/** Refuses (409 two_factor_required) removing the account's last second factor while the rule applies. */
export async function refuseRemovingLastFactor(ctx: Context, userId: string, isLast: (s: TwoFactorStatus) => boolean): Promise<void> {
  if (ctx.config.requireTwoFactor.kind === 'off') return;
  const status = await twoFactorStatus(ctx.db, userId);
  if (!isTwoFactorEnabled(status) || !isLast(status)) return;
  if ((await requiredSince(ctx, userId)) !== 'n/a') throw twoFactorRequired();
}
