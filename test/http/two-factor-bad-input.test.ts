import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { assertJsonError, type Answer, type Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { snapshotTables } from '../helpers/snapshot.js';
import { API, PASSWORD, codeAt, nextStep, pendingLogin, totpLogin, twoFactorSuite } from '../helpers/totp.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/** Raw JSON text, so that arrays, strings, null and invalid JSON can be sent as they are. */
const raw = (v: unknown) => (typeof v === 'string' && v.startsWith('RAW:') ? v.slice(4) : JSON.stringify(v));

for (const { kind, skip } of databaseKinds()) {
  describe(`bad input on the two-factor routes changes nothing (${kind})`, { skip }, () => {
    // A still clock: nothing legitimately writes (session touch, new steps) between two snapshots.
    const clock = manualClock();
    const suite = twoFactorSuite(kind, clock, 'bad-2fa@example.com');
    let fresh: Client;
    let pending: Client;
    let plain: Client;
    let deviceId: string;
    before(async () => {
      await totpLogin(suite.server, clock, suite.user, { trustDevice: true });
      fresh = (await totpLogin(suite.server, clock, suite.user)).client;
      deviceId = ((await fresh.get(`${API}/me/trusted-devices`)).json as { id: string }[])[0]!.id;
      pending = await pendingLogin(suite.server, suite.user);
      plain = suite.server.client();
      assert.equal((await plain.post(`${API}/signup`, { email: 'bad-2fa-plain@example.com', password: PASSWORD })).status, 201);
      nextStep(clock);
    });

    async function refused(what: string, send: () => Promise<Answer>, status?: number): Promise<Answer> {
      const before = await snapshotTables(suite.server.ctx.db);
      const r = await send();
      assertJsonError(r, what, status);
      assert.deepEqual(await snapshotTables(suite.server.ctx.db), before, `${what}: the database changed`);
      return r;
    }

    /** The common bad bodies, plus the route's own; each sent as raw JSON. */
    async function refuseAll(c: Client, method: 'POST' | 'DELETE', path: string, cases: [string, unknown, number?][]): Promise<void> {
      const common: [string, unknown, number?][] = [
        ['malformed JSON', 'RAW:{"code": ', 400],
        ['array body', [], 400],
        ['string body', 'just a string', 400],
        ['number body', 42, 400],
        ['unknown field only', { isAdmin: true }, 400],
        ['70 KiB body', { code: 'x'.repeat(70 * 1024) }, 413],
      ];
      for (const [what, body, status] of [...common, ...cases]) {
        await refused(`${method} ${path}: ${what}`, () => c.request(method, API + path, raw(body), JSON_TYPE), status);
      }
    }

    test('POST /login/two-factor', async () => {
      const code = codeAt(suite.user.secret, clock.now());
      await refuseAll(pending, 'POST', '/login/two-factor', [
        ['null body', null, 400],
        ['unknown field', { method: 'totp', code, admin: true }, 400],
        ['code is a number', { method: 'totp', code: Number(code) }, 400],
        ['code is an array', { method: 'totp', code: [code] }, 400],
        ['code is an object', { method: 'recovery_code', code: { $ne: '' } }, 400],
        ['unknown method', { method: 'sms', code }, 400],
        ['method missing', { code }, 400],
        ['code missing', { method: 'totp' }, 400],
        ['trustDevice is a string', { method: 'totp', code, trustDevice: 'yes' }, 400],
        ['NUL in the code', { method: 'totp', code: `${code.slice(0, 3)}\u0000${code.slice(3)}` }, 400],
        ['NUL in a recovery code', { method: 'recovery_code', code: `${suite.user.recoveryCodes[0]}\u0000` }, 400],
        ['a 129-character code', { method: 'totp', code: '1'.repeat(129) }, 400],
        ['a 10,000-character recovery code', { method: 'recovery_code', code: 'a'.repeat(10_000) }, 400],
        ['prototype pollution', `RAW:{"method":"totp","code":"${code}","__proto__":{"admin":true}}`, 400],
      ]);
      // Long but within the schema: refused as an invalid code without costing an attempt.
      await refused('a 100-character code', () => pending.post(`${API}/login/two-factor`, { method: 'totp', code: '1'.repeat(100) }), 401);
      await refused('a 100-character recovery code', () => pending.post(`${API}/login/two-factor`, { method: 'recovery_code', code: 'a'.repeat(100) }), 401);
      // The pending login is intact and the code unused.
      const ok = await pending.post(`${API}/login/two-factor`, { method: 'totp', code });
      assert.equal(ok.status, 200, ok.text);
      pending = await pendingLogin(suite.server, suite.user);
    });

    test('POST /me/reauthenticate', async () => {
      const code = codeAt(suite.user.secret, clock.now());
      await refuseAll(fresh, 'POST', '/me/reauthenticate', [
        ['password missing', { method: 'totp', code }, 400],
        ['password is a number', { password: 12345678, method: 'totp', code }, 400],
        ['code is a number', { password: PASSWORD, method: 'totp', code: Number(code) }, 400],
        ['unknown method', { password: PASSWORD, method: 'sms', code }, 400],
        ['unknown field', { password: PASSWORD, method: 'totp', code, remember: true }, 400],
        ['NUL in the password', { password: `${PASSWORD}\u0000`, method: 'totp', code }, 400],
        ['a 2,000-character password', { password: 'p'.repeat(2000), method: 'totp', code }, 400],
        ['a 129-character code', { password: PASSWORD, method: 'totp', code: '1'.repeat(129) }, 400],
      ]);
    });

    test('POST /me/two-factor/totp/setup takes no body', async () => {
      await refuseAll(plain, 'POST', '/me/two-factor/totp/setup', [['fields', { issuer: 'Evil', secret: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 400]]);
      const r = await plain.post(`${API}/me/two-factor/totp/setup`);
      assert.equal(r.status, 200, 'without a body it works');
    });

    test('POST /me/two-factor/totp/confirm', async () => {
      const setup = await plain.post(`${API}/me/two-factor/totp/setup`);
      const code = codeAt(setup.json.secret, clock.now());
      await refuseAll(plain, 'POST', '/me/two-factor/totp/confirm', [
        ['empty object', {}, 400],
        ['null body', null, 400],
        ['code is a number', { code: Number(code) }, 400],
        ['code is null', { code: null }, 400],
        ['unknown field', { code, secret: setup.json.secret }, 400],
        ['NUL in the code', { code: `${code}\u0000` }, 400],
        ['a 129-character code', { code: '1'.repeat(129) }, 400],
      ]);
      assert.equal((await plain.get(`${API}/me`)).json.twoFactor.enabled, false);
    });

    test('DELETE /me/two-factor', async () => {
      await refuseAll(fresh, 'DELETE', '/me/two-factor', [
        ['empty object', {}, 400],
        ['null body', null, 400],
        ['password is a number', { password: 12345678 }, 400],
        ['password is an array', { password: [PASSWORD] }, 400],
        ['unknown field', { password: PASSWORD, everything: true }, 400],
        ['NUL in the password', { password: `${PASSWORD}\u0000` }, 400],
        ['a 2,000-character password', { password: 'p'.repeat(2000) }, 400],
      ]);
      await refused('no body', () => fresh.delete(`${API}/me/two-factor`), 400);
      assert.equal((await fresh.get(`${API}/me`)).json.twoFactor.enabled, true);
    });

    test('POST /me/two-factor/recovery-codes takes no body; the codes stay', async () => {
      await refuseAll(fresh, 'POST', '/me/two-factor/recovery-codes', [['fields', { count: 1000 }, 400]]);
      const view = await fresh.get(`${API}/me/two-factor/recovery-codes`);
      assert.deepEqual(view.json.codes.map((c: { code: string }) => c.code), suite.user.recoveryCodes);
    });

    test('DELETE /me/trusted-devices/:id with a bad id or a body', async () => {
      const cases: [string, string, number][] = [
        ['unknown id', 'no-such-id', 404],
        ['a 65-character id', 'x'.repeat(65), 400],
        ['a 5,000-character id', 'x'.repeat(5000), 414],
        ['NUL in the id', 'a%00b', 400],
        ['an encoded slash', '..%2F..%2Fusers', 404],
        ['a SQL-ish id', encodeURIComponent("' OR 1=1 --"), 404],
        ['non-ASCII id', encodeURIComponent('ünïcödé'), 404],
      ];
      for (const [what, id, status] of cases) await refused(what, () => fresh.delete(`${API}/me/trusted-devices/${id}`), status);
      await refused('another account\'s real id is not found', () => plain.delete(`${API}/me/trusted-devices/${deviceId}`), 404);
      await refuseAll(fresh, 'DELETE', `/me/trusted-devices/${deviceId}`, [['fields', { all: true }, 400]]);
      assert.ok(((await fresh.get(`${API}/me/trusted-devices`)).json as { id: string }[]).some((d) => d.id === deviceId));
    });

    test('POST /me/password', async () => {
      await refuseAll(fresh, 'POST', '/me/password', [
        ['empty object', {}, 400],
        ['new password missing', { currentPassword: PASSWORD }, 400],
        ['passwords are numbers', { currentPassword: 1, newPassword: 2 }, 400],
        ['unknown field', { currentPassword: PASSWORD, newPassword: 'another long passphrase', keepDevices: true }, 400],
        ['NUL in the new password', { currentPassword: PASSWORD, newPassword: 'another\u0000long passphrase' }, 400],
        ['a 2,000-character new password', { currentPassword: PASSWORD, newPassword: 'p'.repeat(2000) }, 400],
      ]);
    });

    test('the second-factor routes refuse a body that is not JSON', async () => {
      for (const [path, c] of [
        ['/login/two-factor', pending],
        ['/me/two-factor/totp/confirm', plain],
        ['/me/reauthenticate', fresh],
      ] as const) {
        await refused(`${path} form-encoded`, () => c.post(API + path, 'method=totp&code=123456', { 'content-type': 'application/x-www-form-urlencoded' }), 415);
        await refused(`${path} text/plain`, () => c.post(API + path, '{"code":"123456"}', { 'content-type': 'text/plain' }), 415);
      }
    });
  });
}
