import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Answer, Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import type { TestServer } from '../helpers/server.js';
import {
  API,
  assertError,
  logTypes,
  pendingLogin,
  rowsOf,
  signupWithTwoFactor,
  totpLogin,
  twoFactorSuite,
  userIdOf,
} from '../helpers/totp.js';

const ISSUER = 'Acme Login';
const CONCURRENT = 20;
const CODE_SHAPE = /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/;

const recoveryLogin = (c: Client, code: string) => c.post(`${API}/login/two-factor`, { method: 'recovery_code', code });

/** Asserts that no column of the account's recovery_codes rows holds one of the codes in the clear. */
async function assertNotInClear(server: TestServer, userId: string, codes: string[]): Promise<Record<string, unknown>[]> {
  const rows = await rowsOf(server, 'recovery_codes', userId);
  assert.equal(rows.length, 10);
  for (const code of codes) {
    const normalized = code.replace(/-/g, '').toLowerCase();
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        const text = String(value).toLowerCase();
        assert.ok(!text.includes(normalized) && !text.includes(code), `recovery_codes.${column} holds a code in the clear`);
      }
    }
  }
  return rows;
}

for (const { kind, skip } of databaseKinds()) {
  describe(`recovery codes (${kind})`, { skip }, () => {
    const clock = manualClock(Date.UTC(2026, 2, 14, 9, 30));
    const suite = twoFactorSuite(kind, clock, 'recovery@example.com', { env: { TWOFOLD_ISSUER: ISSUER } });
    let fresh: Client;
    before(() => {
      fresh = suite.user.client;
    });

    test('input is case-insensitive and ignores spaces and dashes; each code works once; the answer says how many remain', async () => {
      const [c0, c1, c2] = suite.user.recoveryCodes as [string, string, string];
      const variants: [string, string][] = [
        [c0, `  ${c0.toUpperCase().replace(/-/g, ' ')}  `],
        [c1, c1.replace(/-/g, '')],
        [c2, c2.toUpperCase().replace(/-/g, ' - ').replace(/^(..)/, '$1 ')],
      ];
      let remaining = 10;
      for (const [, typed] of variants) {
        const c = await pendingLogin(suite.server, suite.user);
        const r = await recoveryLogin(c, typed);
        assert.equal(r.status, 200, `${typed}: ${r.text}`);
        remaining--;
        assert.deepEqual(r.json, { status: 'ok', recoveryCodesRemaining: remaining });
        assert.equal((await c.get(`${API}/me`)).json.twoFactor.recoveryCodesRemaining, remaining);
      }
      // Used codes, in any spelling, are refused (3 failures: below the lock).
      const c = await pendingLogin(suite.server, suite.user);
      for (const [code, typed] of variants) {
        assertError(await recoveryLogin(c, typed === code ? code.toUpperCase() : code), 401, 'invalid_code', code);
      }
      const ok = await recoveryLogin(c, suite.user.recoveryCodes[3]!);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.recoveryCodesRemaining, 6);
      const types = await logTypes(c);
      assert.ok(types.includes('recovery_code_used'));
    });

    test('view lists all 10 with the used ones marked, and how many remain', async () => {
      const r = await fresh.get(`${API}/me/two-factor/recovery-codes`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json).sort(), ['codes', 'remaining']);
      assert.equal(r.json.codes.length, 10);
      assert.deepEqual(
        r.json.codes.map((c: { code: string }) => c.code),
        suite.user.recoveryCodes,
      );
      assert.deepEqual(
        r.json.codes.map((c: { used: boolean }) => c.used),
        [true, true, true, true, false, false, false, false, false, false],
      );
      assert.equal(r.json.remaining, 6);
      assert.ok((await logTypes(fresh)).includes('recovery_codes_viewed'));
    });

    test('the .txt download: text/plain attachment twofold-recovery-codes.txt with issuer, account, date and the codes', async () => {
      const r = await fresh.get(`${API}/me/two-factor/recovery-codes.txt`);
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain\b/);
      const disposition = r.headers.get('content-disposition') ?? '';
      assert.match(disposition, /^attachment\b/);
      assert.match(disposition, /filename="?twofold-recovery-codes\.txt"?/);
      assert.ok(r.text.includes(ISSUER), 'issuer');
      assert.ok(r.text.includes(suite.user.email), 'account');
      assert.ok(r.text.includes('2026-03-14'), 'date');
      for (const code of suite.user.recoveryCodes) assert.ok(r.text.includes(code), `code ${code}`);
      // The used ones are told apart from the unused.
      const lineOf = (code: string) => r.text.split('\n').find((l) => l.includes(code))!;
      assert.notEqual(lineOf(suite.user.recoveryCodes[0]!).trim(), suite.user.recoveryCodes[0], 'a used code is marked');
      assert.equal(lineOf(suite.user.recoveryCodes[9]!).trim(), suite.user.recoveryCodes[9]);
    });

    test('codes are stored neither in plain text nor unencrypted', async () => {
      const rows = await assertNotInClear(suite.server, await userIdOf(suite.server, suite.user.email), suite.user.recoveryCodes);
      for (const row of rows) assert.ok(row.code_enc !== null, 'viewable mode keeps an encrypted copy');
    });

    test('regenerate: 10 new codes; every old one is dead; the new ones work', async () => {
      const r = await fresh.post(`${API}/me/two-factor/recovery-codes`);
      assert.equal(r.status, 200, r.text);
      const codes: string[] = r.json.recoveryCodes;
      assert.equal(codes.length, 10);
      for (const code of codes) assert.match(code, CODE_SHAPE);
      assert.equal(codes.filter((c) => suite.user.recoveryCodes.includes(c)).length, 0);
      assert.ok((await logTypes(fresh)).includes('recovery_codes_regenerated'));

      const view = await fresh.get(`${API}/me/two-factor/recovery-codes`);
      assert.deepEqual(view.json.codes, codes.map((code) => ({ code, used: false })));
      assert.equal(view.json.remaining, 10);

      const c = await pendingLogin(suite.server, suite.user);
      for (const old of suite.user.recoveryCodes.slice(4, 8)) assertError(await recoveryLogin(c, old), 401, 'invalid_code', 'old unused code');
      const ok = await recoveryLogin(c, codes[5]!);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.recoveryCodesRemaining, 9);
      await assertNotInClear(suite.server, await userIdOf(suite.server, suite.user.email), codes);
      suite.user.recoveryCodes = codes;
    });

    test('a recovery-code login revokes every trusted device of the account', async () => {
      const ua = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
      const device = suite.server.client(ua);
      await totpLogin(suite.server, clock, suite.user, { client: device, trustDevice: true });
      const other = suite.server.client();
      await totpLogin(suite.server, clock, suite.user, { client: other, trustDevice: true });
      assert.equal((await device.get(`${API}/me/trusted-devices`)).json.length, 2);
      await device.post(`${API}/logout`);
      assert.deepEqual((await device.post(`${API}/login`, { email: suite.user.email, password: suite.user.password })).json, { status: 'ok' }, 'trusted');
      await device.post(`${API}/logout`);

      const lost = await pendingLogin(suite.server, suite.user);
      const r = await recoveryLogin(lost, suite.user.recoveryCodes[0]!);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual((await lost.get(`${API}/me/trusted-devices`)).json, []);
      assert.equal((await rowsOf(suite.server, 'trusted_devices', await userIdOf(suite.server, suite.user.email))).length, 0);
      const again = await device.post(`${API}/login`, { email: suite.user.email, password: suite.user.password });
      assert.equal(again.json.status, 'two_factor_required', 'the device is no longer trusted');
      const types = await logTypes(lost);
      assert.ok(types.includes('recovery_code_used'));
      assert.ok(types.includes('trusted_devices_revoked'));
    });

    test(`${CONCURRENT} concurrent logins with one recovery code → exactly one 200`, async () => {
      const u = await signupWithTwoFactor(suite.server, clock, 'recovery-race@example.com');
      const clients = await Promise.all(Array.from({ length: CONCURRENT }, () => pendingLogin(suite.server, u)));
      const answers: Answer[] = await Promise.all(clients.map((c) => recoveryLogin(c, u.recoveryCodes[0]!)));
      const ok = answers.filter((a) => a.status === 200);
      assert.equal(ok.length, 1, answers.map((a) => `${a.status} ${a.json?.error?.code ?? ''}`).join(', '));
      assert.equal(ok[0]!.json.recoveryCodesRemaining, 9);
      for (const a of answers) {
        if (a.status !== 200) assert.ok(['invalid_code', 'too_many_attempts'].includes(a.json.error.code), a.text);
      }
      const rows = await rowsOf(suite.server, 'recovery_codes', await userIdOf(suite.server, u.email));
      assert.equal(rows.filter((r) => r.used_at !== null).length, 1);
    });

    test(`${CONCURRENT} concurrent requests with one recovery code on one pending login → exactly one 200`, async () => {
      const u = await signupWithTwoFactor(suite.server, clock, 'recovery-race-one@example.com');
      const c = await pendingLogin(suite.server, u);
      const answers = await Promise.all(Array.from({ length: CONCURRENT }, () => recoveryLogin(c, u.recoveryCodes[1]!)));
      assert.equal(answers.filter((a) => a.status === 200).length, 1, answers.map((a) => `${a.status} ${a.json?.error?.code ?? ''}`).join(', '));
      const rows = await rowsOf(suite.server, 'recovery_codes', await userIdOf(suite.server, u.email));
      assert.equal(rows.filter((r) => r.used_at !== null).length, 1);
    });
  });

  describe(`recovery codes in hashed mode (${kind})`, { skip }, () => {
    const clock = manualClock();
    const suite = twoFactorSuite(kind, clock, 'hashed@example.com', { env: { TWOFOLD_RECOVERY_CODES: 'hashed' } });

    test('confirm still returns 10 codes; only keyed hashes are stored', async () => {
      assert.equal(suite.user.recoveryCodes.length, 10);
      for (const code of suite.user.recoveryCodes) assert.match(code, CODE_SHAPE);
      const rows = await assertNotInClear(suite.server, await userIdOf(suite.server, suite.user.email), suite.user.recoveryCodes);
      for (const row of rows) assert.equal(row.code_enc, null, 'no encrypted copy in hashed mode');
    });

    test('view and download → 409 codes_not_viewable', async () => {
      for (const path of ['/me/two-factor/recovery-codes', '/me/two-factor/recovery-codes.txt']) {
        const r: Answer = await suite.user.client.get(API + path);
        assertError(r, 409, 'codes_not_viewable', path);
        assert.ok(!suite.user.recoveryCodes.some((c) => r.text.includes(c)));
      }
    });

    test('the codes still work, once each', async () => {
      const c = await pendingLogin(suite.server, suite.user);
      const r = await recoveryLogin(c, suite.user.recoveryCodes[4]!.toUpperCase());
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.recoveryCodesRemaining, 9);
      const again = await pendingLogin(suite.server, suite.user);
      assertError(await recoveryLogin(again, suite.user.recoveryCodes[4]!), 401, 'invalid_code');
      assert.equal((await recoveryLogin(again, suite.user.recoveryCodes[5]!)).status, 200);
    });

    test('regenerate returns 10 new codes, shown once; the old ones die', async () => {
      const r = await suite.user.client.post(`${API}/me/two-factor/recovery-codes`);
      assert.equal(r.status, 200, r.text);
      const codes: string[] = r.json.recoveryCodes;
      assert.equal(codes.length, 10);
      await assertNotInClear(suite.server, await userIdOf(suite.server, suite.user.email), codes);
      const c = await pendingLogin(suite.server, suite.user);
      assertError(await recoveryLogin(c, suite.user.recoveryCodes[0]!), 401, 'invalid_code');
      assert.equal((await recoveryLogin(c, codes[0]!)).status, 200);
    });
  });
}
