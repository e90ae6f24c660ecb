import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const dirs: string[] = [];
function tempCwd(): string {
  const d = mkdtempSync(join(tmpdir(), 'twofold-config-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const secret = randomBytes(32).toString('base64');
const PG = 'postgres://postgres@127.0.0.1:5432/twofold';

test('defaults', () => {
  const c = loadConfig({ TWOFOLD_SECRET: secret }, tempCwd());
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.databaseUrl, 'sqlite:./data/twofold.db');
  assert.equal(c.publicUrl.href, 'http://localhost:3000/');
  assert.equal(c.publicOrigin, 'http://localhost:3000');
  assert.equal(c.secureCookies, false);
  assert.equal(c.issuer, 'Twofold');
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.signup, 'open');
  assert.equal(c.recoveryCodes, 'viewable');
  assert.equal(c.sessionIdleMs, 3_600_000);
  assert.equal(c.sessionMaxMs, 86_400_000);
  assert.equal(c.authRateLimit, 60);
  assert.equal(c.trustProxy, false);
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.secret, Buffer.from(secret, 'base64'));
});

test('PUBLIC_URL defaults to localhost on PORT', () => {
  const c = loadConfig({ TWOFOLD_SECRET: secret, PORT: '8080' }, tempCwd());
  assert.equal(c.port, 8080);
  assert.equal(c.publicOrigin, 'http://localhost:8080');
});

test('PUBLIC_URL gives the origin; https turns on Secure cookies', () => {
  const c = loadConfig({ TWOFOLD_SECRET: secret, PUBLIC_URL: 'https://login.example.com/some/path' }, tempCwd());
  assert.equal(c.publicOrigin, 'https://login.example.com');
  assert.equal(c.secureCookies, true);
  const d = loadConfig({ TWOFOLD_SECRET: secret, PUBLIC_URL: 'http://login.example.com:8443' }, tempCwd());
  assert.equal(d.publicOrigin, 'http://login.example.com:8443');
  assert.equal(d.secureCookies, false);
});

test('every variable is read', () => {
  const c = loadConfig(
    {
      TWOFOLD_SECRET: secret,
      PORT: '4000',
      HOST: '0.0.0.0',
      DATABASE_URL: 'sqlite:/tmp/x.db',
      TWOFOLD_ISSUER: 'Acme Login',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TWOFOLD_SIGNUP: 'closed',
      TWOFOLD_RECOVERY_CODES: 'hashed',
      TWOFOLD_SESSION_IDLE: '15m',
      TWOFOLD_SESSION_MAX: '8h',
      TWOFOLD_AUTH_RATE_LIMIT: '10',
      TWOFOLD_TRUST_PROXY: '1',
      LOG_LEVEL: 'warn',
    },
    tempCwd(),
  );
  assert.equal(c.port, 4000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.databaseUrl, 'sqlite:/tmp/x.db');
  assert.equal(c.issuer, 'Acme Login');
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(c.signup, 'closed');
  assert.equal(c.recoveryCodes, 'hashed');
  assert.equal(c.sessionIdleMs, 15 * 60_000);
  assert.equal(c.sessionMaxMs, 8 * 3_600_000);
  assert.equal(c.authRateLimit, 10);
  assert.equal(c.trustProxy, 1, 'a hop count');
  assert.equal(c.logLevel, 'warn');
});

test('PostgreSQL without TWOFOLD_SECRET is refused with a clear message', () => {
  const cwd = tempCwd();
  assert.throws(
    () => loadConfig({ DATABASE_URL: PG }, cwd),
    (err: unknown) => err instanceof ConfigError && /TWOFOLD_SECRET is required with PostgreSQL/.test(err.message),
  );
  assert.throws(() => loadConfig({ DATABASE_URL: 'postgresql://db/twofold' }, cwd), /TWOFOLD_SECRET/);
  // Nothing was written: the secret file is only for SQLite.
  assert.throws(() => statSync(join(cwd, 'data', 'secret.key')));
  assert.equal(loadConfig({ DATABASE_URL: PG, TWOFOLD_SECRET: secret }, cwd).databaseUrl, PG);
});

test('with SQLite and no TWOFOLD_SECRET, data/secret.key is generated (mode 0600) and reused', () => {
  const cwd = tempCwd();
  const first = loadConfig({}, cwd);
  const file = join(cwd, 'data', 'secret.key');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(first.secret.length, 32);
  assert.deepEqual(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'), first.secret);
  const second = loadConfig({}, cwd);
  assert.deepEqual(second.secret, first.secret);
  // Another directory gets another key.
  assert.notDeepEqual(loadConfig({}, tempCwd()).secret, first.secret);
});

test('a broken secret.key is refused, not replaced', () => {
  const cwd = tempCwd();
  mkdirSync(join(cwd, 'data'));
  writeFileSync(join(cwd, 'data', 'secret.key'), 'dG9vIHNob3J0\n');
  assert.throws(() => loadConfig({}, cwd), /32 random bytes/);
  assert.equal(readFileSync(join(cwd, 'data', 'secret.key'), 'utf8'), 'dG9vIHNob3J0\n');
});

test('bad values are refused with the variable named', () => {
  const cwd = tempCwd();
  const cases: [Record<string, string>, RegExp][] = [
    [{ TWOFOLD_SECRET: 'dG9vIHNob3J0' }, /TWOFOLD_SECRET must be 32 random bytes/],
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ PORT: '-1' }, /PORT/],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL/],
    [{ PUBLIC_URL: 'ftp://example.com' }, /PUBLIC_URL/],
    [{ DATABASE_URL: 'mysql://db/x' }, /DATABASE_URL/],
    [{ DATABASE_URL: 'sqlite:' }, /DATABASE_URL/],
    [{ TWOFOLD_SIGNUP: 'maybe' }, /TWOFOLD_SIGNUP must be one of open, closed/],
    [{ TWOFOLD_RECOVERY_CODES: 'plain' }, /TWOFOLD_RECOVERY_CODES must be one of viewable, hashed/],
    [{ TWOFOLD_SESSION_IDLE: 'forever' }, /TWOFOLD_SESSION_IDLE/],
    [{ TWOFOLD_SESSION_MAX: '0' }, /TWOFOLD_SESSION_MAX/],
    [{ TWOFOLD_AUTH_RATE_LIMIT: '0' }, /TWOFOLD_AUTH_RATE_LIMIT/],
    [{ TWOFOLD_AUTH_RATE_LIMIT: '2.5' }, /TWOFOLD_AUTH_RATE_LIMIT/],
    [{ TWOFOLD_ISSUER: 'Acme:Login' }, /TWOFOLD_ISSUER/],
    [{ TWOFOLD_TRUST_PROXY: 'maybe' }, /TWOFOLD_TRUST_PROXY: "maybe" is not an IP address/],
    [{ TWOFOLD_SECRET_PREVIOUS: `${secret},dG9vIHNob3J0` }, /TWOFOLD_SECRET_PREVIOUS \(key 2\) must be 32 random bytes/],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => loadConfig({ TWOFOLD_SECRET: secret, ...env }, cwd),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
      JSON.stringify(env),
    );
  }
});

test('TWOFOLD_SECRET_PREVIOUS: none by default, or comma-separated keys', () => {
  assert.deepEqual(loadConfig({ TWOFOLD_SECRET: secret }, tempCwd()).previousSecrets, []);
  const a = randomBytes(32);
  const b = randomBytes(32);
  const c = loadConfig({ TWOFOLD_SECRET: secret, TWOFOLD_SECRET_PREVIOUS: ` ${a.toString('base64')} ,${b.toString('base64')}` }, tempCwd());
  assert.deepEqual(c.previousSecrets, [a, b]);
});
