import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import {
  API,
  assertError,
  codeAt,
  enableTwoFactor,
  logTypes,
  nextStep,
  rowsOf,
  signupWithTwoFactor,
  totpLogin,
  twoFactorSuite,
  userIdOf,
  type TwoFactorUser,
} from '../helpers/totp.js';

const DEVICE = 'twofold_device';
const SESSION = 'twofold_session';
const FIREFOX = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
const DAY = 24 * 60 * 60_000;

for (const { kind, skip } of databaseKinds()) {
  describe(`trusted devices (${kind})`, { skip }, () => {
    const clock = manualClock();
    const suite = twoFactorSuite(kind, clock, 'devices@example.com');

    const passwordLogin = (c: Client, u: { email: string; password: string } = suite.user) => c.post(`${API}/login`, { email: u.email, password: u.password });

    /** A browser that went through a TOTP login with "trust this device"; logged out again. */
    async function trustedBrowser(u: TwoFactorUser = suite.user): Promise<Client> {
      const { client } = await totpLogin(suite.server, clock, u, { client: suite.server.client(FIREFOX), trustDevice: true });
      assert.ok(client.cookies.get(DEVICE));
      assert.equal((await client.post(`${API}/logout`)).status, 204);
      return client;
    }

    /** A fresh, fully authenticated session of the account (TOTP login). */
    async function freshSession(u: TwoFactorUser = suite.user): Promise<Client> {
      return (await totpLogin(suite.server, clock, u)).client;
    }

    test('trustDevice: true sets a separate HttpOnly device cookie for 30 days; without it, none', async () => {
      const plain = await totpLogin(suite.server, clock, suite.user);
      assert.ok(!plain.answer.headers.getSetCookie().some((l) => l.startsWith(`${DEVICE}=`)));
      assert.equal(plain.client.cookies.get(DEVICE), undefined);

      const { client, answer } = await totpLogin(suite.server, clock, suite.user, { client: suite.server.client(FIREFOX), trustDevice: true });
      const line = answer.headers.getSetCookie().find((l) => l.startsWith(`${DEVICE}=`));
      assert.ok(line, 'a device cookie');
      assert.match(line, /HttpOnly/i);
      assert.match(line, /SameSite=Lax/i);
      assert.match(line, /Path=\//i);
      assert.match(line, /Max-Age=2592000\b/i);
      const token = client.cookies.get(DEVICE)!;
      assert.ok(token.length >= 43, '256-bit token');
      assert.notEqual(token, client.cookies.get(SESSION));
      // The token is stored hashed.
      const rows = await rowsOf(suite.server, 'trusted_devices', await userIdOf(suite.server, suite.user.email));
      assert.ok(!JSON.stringify(rows).includes(token));
      assert.ok((await logTypes(client)).includes('device_trusted'));
    });

    test('a later password login skips the second factor, but the session is not fresh', async () => {
      const device = await trustedBrowser();
      const r = await passwordLogin(device);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: 'ok' });
      assert.equal((await device.get(`${API}/me`)).status, 200);
      assertError(await device.get(`${API}/me/two-factor/recovery-codes`), 403, 'reauthentication_required');
      // Without the cookie the same password login asks for the second factor.
      assert.equal((await passwordLogin(suite.server.client(FIREFOX))).json.status, 'two_factor_required');
      // The wrong password is not helped by the device.
      assertError(await device.post(`${API}/login`, { email: suite.user.email, password: 'not the password' }), 401, 'invalid_credentials');
    });

    test('valid 30 days from trusting: 1 minute before still trusted (use does not extend it), 1 minute after asked again', async () => {
      const device = await trustedBrowser();
      const trustedAt = clock.now();
      clock.advance(15 * DAY);
      assert.deepEqual((await passwordLogin(device)).json, { status: 'ok' });
      await device.post(`${API}/logout`);
      clock.set(trustedAt + 30 * DAY - 60_000);
      assert.deepEqual((await passwordLogin(device)).json, { status: 'ok' });
      await device.post(`${API}/logout`);
      clock.set(trustedAt + 30 * DAY + 60_000);
      assert.equal((await passwordLogin(device)).json.status, 'two_factor_required');
      // The expired device is no longer listed.
      const s = await freshSession();
      const listed = (await s.get(`${API}/me/trusted-devices`)).json as { expiresAt: string }[];
      assert.ok(listed.every((d) => Date.parse(d.expiresAt) > clock.now()));
    });

    test('a device cookie of another account does not skip the second factor', async () => {
      const other = await signupWithTwoFactor(suite.server, clock, 'devices-other@example.com');
      const device = await trustedBrowser(suite.user);
      const r = await passwordLogin(device, other);
      assert.equal(r.json.status, 'two_factor_required', 'the device was trusted by another account');
      // And the other way round: a copy of the token in another browser, for the other account.
      const copy = suite.server.client(FIREFOX);
      copy.cookies.set(DEVICE, device.cookies.get(DEVICE)!);
      assert.equal((await passwordLogin(copy, other)).json.status, 'two_factor_required');
      assert.deepEqual((await passwordLogin(copy, suite.user)).json, { status: 'ok' }, 'still good for its own account');
    });

    test('listed with label, dates, lastUsedAt and current', async () => {
      const device = await trustedBrowser();
      const trustedAt = clock.now();
      clock.advance(60 * 60_000);
      assert.deepEqual((await passwordLogin(device)).json, { status: 'ok' });
      const usedAt = clock.now();
      const list = await device.get(`${API}/me/trusted-devices`);
      assert.equal(list.status, 200, list.text);
      const mine = (list.json as Record<string, unknown>[]).filter((d) => d.current === true);
      assert.equal(mine.length, 1, list.text);
      const d = mine[0]!;
      assert.deepEqual(Object.keys(d).sort(), ['createdAt', 'current', 'expiresAt', 'id', 'label', 'lastUsedAt']);
      assert.equal(d.label, 'Firefox on Linux');
      assert.equal(d.createdAt, new Date(trustedAt).toISOString());
      assert.equal(d.expiresAt, new Date(trustedAt + 30 * DAY).toISOString());
      assert.equal(d.lastUsedAt, new Date(usedAt).toISOString());
      // Another browser sees the same device, not as its own.
      const s = await freshSession();
      const seen = ((await s.get(`${API}/me/trusted-devices`)).json as Record<string, unknown>[]).find((x) => x.id === d.id);
      assert.ok(seen);
      assert.equal(seen.current, false);
      // Another account does not see it.
      const other = await signupWithTwoFactor(suite.server, clock, 'devices-list-other@example.com');
      assert.ok(!((await other.client.get(`${API}/me/trusted-devices`)).json as { id: string }[]).some((x) => x.id === d.id));
    });

    test('revoke one (fresh session): 204, the next login on it asks again; the others stay', async () => {
      const device = await trustedBrowser();
      const kept = await trustedBrowser();
      assert.deepEqual((await passwordLogin(device)).json, { status: 'ok' });
      const id = ((await device.get(`${API}/me/trusted-devices`)).json as { id: string; current: boolean }[]).find((d) => d.current)!.id;
      // The device's own session skipped the second factor: not fresh.
      assertError(await device.delete(`${API}/me/trusted-devices/${id}`), 403, 'reauthentication_required');
      nextStep(clock);
      const re = await device.post(`${API}/me/reauthenticate`, { password: suite.user.password, method: 'totp', code: codeAt(suite.user.secret, clock.now()) });
      assert.equal(re.status, 204, re.text);
      const del = await device.delete(`${API}/me/trusted-devices/${id}`);
      assert.equal(del.status, 204, del.text);
      assertError(await device.delete(`${API}/me/trusted-devices/${id}`), 404, 'not_found', 'already revoked');
      assert.ok(!((await device.get(`${API}/me/trusted-devices`)).json as { id: string }[]).some((d) => d.id === id));
      assert.ok((await logTypes(device)).includes('device_revoked'));
      await device.post(`${API}/logout`);
      assert.equal((await passwordLogin(device)).json.status, 'two_factor_required');
      assert.deepEqual((await passwordLogin(kept)).json, { status: 'ok' }, 'the other device is still trusted');
      await kept.post(`${API}/logout`);
    });

    test('another account cannot revoke a device: 404 and it stays', async () => {
      const device = await trustedBrowser();
      assert.deepEqual((await passwordLogin(device)).json, { status: 'ok' });
      const id = ((await device.get(`${API}/me/trusted-devices`)).json as { id: string; current: boolean }[]).find((d) => d.current)!.id;
      const other = await signupWithTwoFactor(suite.server, clock, 'devices-thief@example.com');
      assertError(await other.client.delete(`${API}/me/trusted-devices/${id}`), 404, 'not_found');
      assert.ok(((await device.get(`${API}/me/trusted-devices`)).json as { id: string }[]).some((d) => d.id === id));
    });

    test('a password change revokes every trusted device', async () => {
      const device = await trustedBrowser();
      const s = await freshSession();
      assert.ok(((await s.get(`${API}/me/trusted-devices`)).json as unknown[]).length > 0);
      const newPassword = 'a brand new passphrase';
      const r = await s.post(`${API}/me/password`, { currentPassword: suite.user.password, newPassword });
      assert.equal(r.status, 204, r.text);
      suite.user.password = newPassword;
      assert.deepEqual((await s.get(`${API}/me/trusted-devices`)).json, []);
      assert.equal((await rowsOf(suite.server, 'trusted_devices', await userIdOf(suite.server, suite.user.email))).length, 0);
      assert.equal((await passwordLogin(device)).json.status, 'two_factor_required');
      const types = await logTypes(s);
      assert.ok(types.includes('password_changed'));
      assert.ok(types.includes('trusted_devices_revoked'));
    });

    test('disable revokes every trusted device; after setting up again the old device is not trusted', async () => {
      const device = await trustedBrowser();
      const s = await freshSession();
      const r = await s.delete(`${API}/me/two-factor`, { password: suite.user.password });
      assert.equal(r.status, 204, r.text);
      assert.equal((await rowsOf(suite.server, 'trusted_devices', await userIdOf(suite.server, suite.user.email))).length, 0);
      assert.deepEqual((await s.get(`${API}/me/trusted-devices`)).json, []);
      nextStep(clock);
      const again = await enableTwoFactor(s, clock);
      suite.user.secret = again.secret;
      suite.user.recoveryCodes = again.recoveryCodes;
      assert.equal((await passwordLogin(device)).json.status, 'two_factor_required');
    });
  });
}
