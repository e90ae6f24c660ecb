import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequireTwoFactor, ruleApplies, twoFactorDemand } from '../../src/core/require-two-factor.js';

const DAY = 86_400_000;

test('TWOFOLD_REQUIRE_2FA values', () => {
  assert.deepEqual(parseRequireTwoFactor(undefined), { kind: 'off' });
  assert.deepEqual(parseRequireTwoFactor('off'), { kind: 'off' });
  assert.deepEqual(parseRequireTwoFactor('all'), { kind: 'all' });
  assert.deepEqual(parseRequireTwoFactor('group:Staff'), { kind: 'group', group: 'staff' });
  for (const bad of ['on', 'group:', 'group:a b', 'everyone']) assert.throws(() => parseRequireTwoFactor(bad), /off, all or group/, bad);
});

test('the rule applies to everyone, or to the members of its group', () => {
  assert.equal(ruleApplies({ kind: 'off' }, ['staff']), false);
  assert.equal(ruleApplies({ kind: 'all' }, []), true);
  assert.equal(ruleApplies({ kind: 'group', group: 'staff' }, ['dev', 'staff']), true);
  assert.equal(ruleApplies({ kind: 'group', group: 'staff' }, ['dev']), false);
});

test('grace counts from when the rule first applied; 0 means none; 2FA on means nothing is asked', () => {
  const since = 1_000_000;
  assert.deepEqual(twoFactorDemand({ applies: true, enabled: false, since, graceMs: 7 * DAY, now: since + 7 * DAY - 1 }), { state: 'grace', deadline: since + 7 * DAY });
  assert.deepEqual(twoFactorDemand({ applies: true, enabled: false, since, graceMs: 7 * DAY, now: since + 7 * DAY }), { state: 'required' });
  assert.deepEqual(twoFactorDemand({ applies: true, enabled: false, since: null, graceMs: 0, now: since }), { state: 'required' });
  assert.deepEqual(twoFactorDemand({ applies: true, enabled: true, since, graceMs: 0, now: since }), { state: 'none' });
  assert.deepEqual(twoFactorDemand({ applies: false, enabled: false, since, graceMs: 0, now: since }), { state: 'none' });
});
