import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret } from 'otpauth';
import { manualClock } from '../../src/core/clock.js';
import { Client, type Answer } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  API,
  PASSWORD,
  assertError,
  codeAt,
  codeForStep,
  nextStep,
  pendingLogin,
  rowsOf,
  stepOf,
  userIdOf,
  wrongCode,
} from '../helpers/totp.js';

const ISSUER = 'Acme Login';

/** A client that keeps every answer, to search them all for the secret afterwards. */
class RecordingClient extends Client {
  readonly answers: { what: string; answer: Answer }[] = [];
  override async request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
    const answer = await super.request(method, path, body, headers);
    this.answers.push({ what: `${method} ${path}`, answer });
    return answer;
  }
}

/** Every value of every row of every table, as text. */
async function wholeDatabase(server: TestServer): Promise<string> {
  const tables = (await server.ctx.db.introspection.getTables()).map((t) => t.name);
  const parts: string[] = [];
  for (const t of tables) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    parts.push(JSON.stringify(await (server.ctx.db as any).selectFrom(t).selectAll().execute()));
  }
  return parts.join('\n');
}

/** The secret in the encodings a careless store might use. */
function secretForms(secret: string): string[] {
  const bytes = Buffer.from(Secret.fromBase32(secret).bytes);
  return [secret, secret.toLowerCase(), bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
}

for (const { kind, skip } of databaseKinds()) {
  describe(`two-factor setup and confirmation (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind, { clock, env: { TWOFOLD_ISSUER: ISSUER } });
    });
    after(async () => {
      await server?.close();
    });

    async function signup(email: string): Promise<Client> {
      const c = server.client();
      const r = await c.post(`${API}/signup`, { email, password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      return c;
    }

    test('setup: a 160-bit base32 secret, the otpauth URI of SPEC §3 and an SVG QR code; nothing on yet', async () => {
      const email = 'ada+setup@example.com';
      const c = await signup(email);
      const r = await c.post(`${API}/me/two-factor/totp/setup`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json).sort(), ['otpauthUri', 'qrCodeSvg', 'secret']);
      const { secret, otpauthUri, qrCodeSvg } = r.json;
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.equal(Secret.fromBase32(secret).bytes.length, 20, '160 bits');
      assert.equal(
        otpauthUri,
        `otpauth://totp/Acme%20Login:ada%2Bsetup%40example.com?secret=${secret}&issuer=Acme%20Login&algorithm=SHA1&digits=6&period=30`,
      );
      assert.match(qrCodeSvg, /^(<\?xml[^>]*>\s*)?<svg[\s>]/);
      assert.match(qrCodeSvg, /<\/svg>\s*$/);
      assert.match(r.headers.get('cache-control') ?? '', /no-store/);

      const me = await c.get(`${API}/me`);
      assert.equal(me.status, 200);
      assert.deepEqual(me.json.twoFactor, { enabled: false, methods: [], recoveryCodesRemaining: 0 });
      // A login still needs only the password.
      const other = server.client();
      assert.deepEqual((await other.post(`${API}/login`, { email, password: PASSWORD })).json, { status: 'ok' });
      assert.equal((await c.get(`${API}/me/two-factor/recovery-codes`)).status, 409, 'no codes before confirmation');

      // Each setup draws a new secret.
      const again = await c.post(`${API}/me/two-factor/totp/setup`);
      assert.equal(again.status, 200);
      assert.notEqual(again.json.secret, secret);
    });

    test('a second setup replaces the pending secret: a code of the first no longer confirms', async () => {
      const c = await signup('replace@example.com');
      const first = (await c.post(`${API}/me/two-factor/totp/setup`)).json.secret as string;
      const second = (await c.post(`${API}/me/two-factor/totp/setup`)).json.secret as string;
      assert.notEqual(first, second);
      const oldCode = codeAt(first, clock.now());
      const s = stepOf(clock.now());
      assert.ok(![-1, 0, 1].some((d) => codeForStep(second, s + d) === oldCode), 'test precondition: codes differ');
      assertError(await c.post(`${API}/me/two-factor/totp/confirm`, { code: oldCode }), 400, 'invalid_code');
      assert.equal((await c.get(`${API}/me`)).json.twoFactor.enabled, false);
      const ok = await c.post(`${API}/me/two-factor/totp/confirm`, { code: codeAt(second, clock.now()) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await c.get(`${API}/me`)).json.twoFactor.enabled, true);
    });

    test('a wrong confirmation code → 400 invalid_code and 2FA stays off', async () => {
      const c = await signup('wrong-confirm@example.com');
      const { secret } = (await c.post(`${API}/me/two-factor/totp/setup`)).json;
      for (const code of [wrongCode(secret, clock.now()), codeForStep(secret, stepOf(clock.now()) - 2), codeForStep(secret, stepOf(clock.now()) + 2)]) {
        assertError(await c.post(`${API}/me/two-factor/totp/confirm`, { code }), 400, 'invalid_code', code);
      }
      const me = await c.get(`${API}/me`);
      assert.equal(me.json.twoFactor.enabled, false);
      assert.equal(me.json.twoFactor.recoveryCodesRemaining, 0);
      // Still pending: the right code confirms.
      assert.equal((await c.post(`${API}/me/two-factor/totp/confirm`, { code: codeAt(secret, clock.now()) })).status, 200);
    });

    test('confirmation without a setup → 4xx and nothing turns on', async () => {
      const c = await signup('no-setup@example.com');
      const r = await c.post(`${API}/me/two-factor/totp/confirm`, { code: '123456' });
      assert.ok(r.status >= 400 && r.status < 500, r.text);
      assert.equal((await c.get(`${API}/me`)).json.twoFactor.enabled, false);
    });

    test('confirm: 10 codes xxxx-xxxx-xxxx-xxxx; 2FA on; setup again → 409 already_enabled; the confirm code is used up', async () => {
      const email = 'confirm@example.com';
      const c = await signup(email);
      nextStep(clock);
      const { secret } = (await c.post(`${API}/me/two-factor/totp/setup`)).json;
      const confirmCode = codeAt(secret, clock.now());
      const r = await c.post(`${API}/me/two-factor/totp/confirm`, { code: confirmCode });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json), ['recoveryCodes']);
      const codes: string[] = r.json.recoveryCodes;
      assert.equal(codes.length, 10);
      for (const code of codes) assert.match(code, /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
      assert.equal(new Set(codes).size, 10);

      const me = await c.get(`${API}/me`);
      assert.deepEqual(me.json.twoFactor, { enabled: true, methods: ['totp', 'recovery_code'], recoveryCodesRemaining: 10 });

      assertError(await c.post(`${API}/me/two-factor/totp/setup`), 409, 'already_enabled');
      const reconfirm = await c.post(`${API}/me/two-factor/totp/confirm`, { code: confirmCode });
      assert.ok(reconfirm.status >= 400 && reconfirm.status < 500, reconfirm.text);
      assert.equal((await c.get(`${API}/me`)).json.twoFactor.recoveryCodesRemaining, 10, 'codes not replaced');

      // Confirmation counts as use: the same code (same step, still in the window) cannot log in.
      const p = await pendingLogin(server, { email, password: PASSWORD });
      assertError(await p.post(`${API}/login/two-factor`, { method: 'totp', code: confirmCode }), 401, 'invalid_code');
      nextStep(clock);
      const ok = await p.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(secret, clock.now()) });
      assert.equal(ok.status, 200, ok.text);
    });

    test('the secret appears in no response after confirmation, and secret and codes are not stored in plain text', async () => {
      const email = 'leak@example.com';
      const c = new RecordingClient(server.url);
      assert.equal((await c.post(`${API}/signup`, { email, password: PASSWORD })).status, 201);
      nextStep(clock);
      const setup = await c.post(`${API}/me/two-factor/totp/setup`);
      const secret: string = setup.json.secret;
      c.answers.length = 0;

      const confirm = await c.post(`${API}/me/two-factor/totp/confirm`, { code: codeAt(secret, clock.now()) });
      assert.equal(confirm.status, 200);
      const codes: string[] = confirm.json.recoveryCodes;
      await c.get(`${API}/me`);
      await c.get(`${API}/me/two-factor/recovery-codes`);
      await c.get(`${API}/me/two-factor/recovery-codes.txt`);
      await c.get(`${API}/me/trusted-devices`);
      await c.get(`${API}/me/security-log`);
      await c.get(`${API}/openapi.json`);
      await c.post(`${API}/me/two-factor/totp/setup`); // 409 already_enabled
      await c.get('/settings');
      await c.post(`${API}/logout`);
      await c.post(`${API}/login`, { email, password: PASSWORD });
      await c.get('/login/two-factor');
      await c.post(`${API}/login/two-factor`, { method: 'totp', code: wrongCode(secret, clock.now()) });
      nextStep(clock);
      const ok = await c.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(secret, clock.now()), trustDevice: true });
      assert.equal(ok.status, 200, ok.text);
      await c.get(`${API}/me`);
      await c.get(`${API}/me/trusted-devices`);
      await c.get(`${API}/me/security-log`);
      await c.post(`${API}/me/reauthenticate`, { password: PASSWORD, method: 'recovery_code', code: codes[0] });
      const regen = await c.post(`${API}/me/two-factor/recovery-codes`);
      assert.equal(regen.status, 200, regen.text);
      const regenerated: string[] = regen.json.recoveryCodes;
      await c.get('/settings');
      await c.post(`${API}/logout`);
      await c.post(`${API}/login`, { email, password: PASSWORD });
      await c.get(`${API}/me`);
      assert.ok(c.answers.length >= 20);
      const statuses = c.answers.map(({ what, answer }) => `${answer.status} ${what}`);
      for (const expected of [
        `200 GET ${API}/me/two-factor/recovery-codes`,
        `200 GET ${API}/me/two-factor/recovery-codes.txt`,
        `204 POST ${API}/me/reauthenticate`,
        `200 GET ${API}/openapi.json`,
      ]) {
        assert.ok(statuses.includes(expected), `${expected} not in ${statuses.join(', ')}`);
      }
      for (const { what, answer } of c.answers) {
        const lines = [answer.text];
        answer.headers.forEach((v, k) => lines.push(`${k}: ${v}`));
        const all = lines.join('\n');
        for (const form of secretForms(secret)) assert.ok(!all.includes(form), `${what} (${answer.status}) carries the secret`);
      }

      const id = await userIdOf(server, email);
      const totpRows = await rowsOf(server, 'totp_credentials', id);
      assert.equal(totpRows.length, 1);
      const recoveryRows = await rowsOf(server, 'recovery_codes', id);
      assert.equal(recoveryRows.length, 10);
      const stored = await wholeDatabase(server);
      for (const form of secretForms(secret)) {
        assert.ok(!JSON.stringify(totpRows).includes(form), 'the TOTP secret is stored in the clear');
        assert.ok(!stored.includes(form), 'the TOTP secret is somewhere in the database in the clear');
      }
      for (const code of [...codes, ...regenerated]) {
        const normalized = code.replace(/-/g, '');
        for (const row of recoveryRows) {
          for (const [column, value] of Object.entries(row)) {
            assert.ok(!String(value).toLowerCase().includes(normalized), `recovery_codes.${column} holds a code in the clear`);
            assert.ok(!String(value).toLowerCase().includes(code), `recovery_codes.${column} holds a code in the clear`);
          }
        }
        assert.ok(!stored.toLowerCase().includes(normalized) && !stored.toLowerCase().includes(code), 'a recovery code is in the database in the clear');
      }
    });
  });
}
