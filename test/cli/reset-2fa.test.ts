import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, logTypes, pendingLogin, rowsOf, signupWithTwoFactor, userIdOf } from '../helpers/totp.js';

const BIN = join(process.cwd(), 'bin', 'twofold.mjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the operator CLI against the test database, as an operator would. */
function twofold(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

for (const { kind, skip } of databaseKinds()) {
  describe(`twofold users reset-2fa (${kind})`, { skip }, () => {
    const secret = randomBytes(32).toString('base64');
    let server: TestServer;
    let env: Record<string, string>;
    before(async () => {
      server = await startTestServer(kind, { clock: systemClock, env: { TWOFOLD_SECRET: secret } });
      env = { DATABASE_URL: server.database.url, TWOFOLD_SECRET: secret };
    });
    after(async () => {
      await server?.close();
    });

    test('turns 2FA off, removes codes and app, ends every session and trusted device, and is in the security log', async () => {
      const user = await signupWithTwoFactor(server, systemClock, 'lost-everything@example.com');
      // A trusted browser (a recovery-code login, so no wait for the next TOTP step).
      const device = await pendingLogin(server, user);
      const r = await device.post(`${API}/login/two-factor`, { method: 'recovery_code', code: user.recoveryCodes[0], trustDevice: true });
      assert.equal(r.status, 200, r.text);
      assert.ok(device.cookies.get('twofold_device'));
      await device.post(`${API}/logout`);
      const id = await userIdOf(server, user.email);
      assert.equal((await rowsOf(server, 'trusted_devices', id)).length, 1);

      const run = await twofold(['users', 'reset-2fa', 'Lost-Everything@Example.com'], env);
      assert.equal(run.code, 0, `exit ${run.code}\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /lost-everything@example\.com/i);
      assert.match(run.stdout, /off/);
      for (const code of user.recoveryCodes) assert.ok(!run.stdout.includes(code) && !run.stderr.includes(code));
      assert.ok(!run.stdout.includes(user.secret) && !run.stderr.includes(user.secret));

      // Every session ended with it (SPEC §3: an operator action ends every session in one write).
      assert.equal((await user.client.get(`${API}/me`)).status, 401, 'the sessions of the account ended');
      assert.equal((await rowsOf(server, 'totp_credentials', id)).length, 0);
      assert.equal((await rowsOf(server, 'recovery_codes', id)).length, 0);
      assert.equal((await rowsOf(server, 'trusted_devices', id)).length, 0);
      assert.equal((await rowsOf(server, 'sessions', id)).length, 0);
      // The person logs in with the password alone and can set up again.
      assert.deepEqual((await device.post(`${API}/login`, { email: user.email, password: user.password })).json, { status: 'ok' });
      assert.deepEqual((await device.get(`${API}/me`)).json.twoFactor, { enabled: false, methods: [], recoveryCodesRemaining: 0 });
      assert.deepEqual((await device.get(`${API}/me/trusted-devices`)).json, []);
      assert.equal((await device.post(`${API}/me/two-factor/totp/setup`)).status, 200);

      const types = await logTypes(device);
      assert.ok(types.includes('admin_two_factor_reset'), types.join(', '));
      assert.ok(types.includes('trusted_devices_revoked'), types.join(', '));
    });

    test('an unknown email: non-zero exit with a clear message, nothing changed', async () => {
      const user = await signupWithTwoFactor(server, systemClock, 'still-protected@example.com');
      const run = await twofold(['users', 'reset-2fa', 'nobody@example.com'], env);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /nobody@example\.com/);
      assert.match(run.stderr, /not found|no account/i);
      assert.equal(run.stdout, '');
      assert.equal((await user.client.get(`${API}/me`)).json.twoFactor.enabled, true);
    });

    test('no email → non-zero exit with a usage message', async () => {
      const run = await twofold(['users', 'reset-2fa'], env);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /reset-2fa/);
    });
  });
}
