/**
 * Required 2FA (SPEC §9): TWOFOLD_REQUIRE_2FA = off | all | group:<name>, with a grace period that
 * counts from the moment the rule first applied to the account.
 */
export type RequireTwoFactorRule = { kind: 'off' } | { kind: 'all' } | { kind: 'group'; group: string };

export function parseRequireTwoFactor(text: string | undefined): RequireTwoFactorRule {
  const v = (text ?? '').trim();
  if (v === '' || v === 'off') return { kind: 'off' };
  if (v === 'all') return { kind: 'all' };
  const m = /^group:(.+)$/.exec(v);
  const group = m?.[1]?.trim().toLowerCase();
  if (group && /^[a-z0-9][a-z0-9._-]{0,63}$/.test(group)) return { kind: 'group', group };
  throw new Error(`must be off, all or group:<name>; got "${text}"`);
}

export function ruleApplies(rule: RequireTwoFactorRule, groups: readonly string[]): boolean {
  if (rule.kind === 'off') return false;
  if (rule.kind === 'all') return true;
  return groups.includes(rule.group);
}

/**
 * - `none`: nothing asked (rule off, not in the group, or 2FA already on)
 * - `grace`: the person is asked to set 2FA up, by `deadline`
 * - `required`: the grace period is over; only setup is reachable
 */
export type TwoFactorDemand = { state: 'none' } | { state: 'grace'; deadline: number } | { state: 'required' };

export function twoFactorDemand(input: { applies: boolean; enabled: boolean; since: number | null; graceMs: number; now: number }): TwoFactorDemand {
  if (!input.applies || input.enabled) return { state: 'none' };
  const deadline = (input.since ?? input.now) + input.graceMs;
  return input.now < deadline ? { state: 'grace', deadline } : { state: 'required' };
}
