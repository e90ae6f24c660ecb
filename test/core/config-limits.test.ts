import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseTrustProxy } from '../../src/core/trust-proxy.js';

const secret = Buffer.alloc(32, 3).toString('base64');
const cwd = () => mkdtempSync(join(tmpdir(), 'twofold-config-'));
const load = (env: Record<string, string>) => loadConfig({ TWOFOLD_SECRET: secret, ...env }, cwd());

function refused(env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => load(env),
    (err: unknown) => err instanceof ConfigError && message.test(err.message),
    JSON.stringify(env),
  );
}

test('TWOFOLD_TRUST_PROXY=true is refused, saying what to write instead', () => {
  for (const value of ['true', 'TRUE', 'yes', 'on']) {
    refused({ TWOFOLD_TRUST_PROXY: value }, /TWOFOLD_TRUST_PROXY/);
    try {
      load({ TWOFOLD_TRUST_PROXY: value });
    } catch (err) {
      const message = (err as Error).message;
      assert.match(message, /X-Forwarded-For/);
      assert.match(message, /TWOFOLD_TRUST_PROXY=127\.0\.0\.1/, 'an example of addresses');
      assert.match(message, /TWOFOLD_TRUST_PROXY=1\b/, 'an example of a hop count');
    }
  }
});

test('TWOFOLD_TRUST_PROXY: off, a hop count, or proxy addresses and CIDR ranges', () => {
  for (const off of ['', '0', 'false', 'off', 'no']) assert.equal(load({ TWOFOLD_TRUST_PROXY: off }).trustProxy, false, off);
  assert.equal(load({}).trustProxy, false);
  assert.equal(load({ TWOFOLD_TRUST_PROXY: '1' }).trustProxy, 1);
  assert.equal(load({ TWOFOLD_TRUST_PROXY: '2' }).trustProxy, 2);
  assert.deepEqual(load({ TWOFOLD_TRUST_PROXY: '127.0.0.1' }).trustProxy, ['127.0.0.1']);
  assert.deepEqual(load({ TWOFOLD_TRUST_PROXY: ' 10.0.0.0/8, 192.168.1.10 ,::1,fd00::/8,loopback' }).trustProxy, ['10.0.0.0/8', '192.168.1.10', '::1', 'fd00::/8', 'loopback']);
  for (const bad of ['maybe', '10.0.0.0/33', '::1/129', '300.1.1.1', 'proxy.example.com', '10.0.0.1,', '11', '-1', '1.5', '10.0.0.0/', '/8']) {
    refused({ TWOFOLD_TRUST_PROXY: bad }, /TWOFOLD_TRUST_PROXY/);
  }
  assert.throws(() => parseTrustProxy('10.0.0.0/8,nonsense'), /"nonsense" is not an IP address or CIDR range/);
});

test('session limits: nonsense is refused at start with a clear message', () => {
  refused({ TWOFOLD_SESSION_IDLE: '0' }, /TWOFOLD_SESSION_IDLE/);
  refused({ TWOFOLD_SESSION_IDLE: '0.0001s' }, /TWOFOLD_SESSION_IDLE/);
  refused({ TWOFOLD_SESSION_IDLE: '5s' }, /TWOFOLD_SESSION_IDLE must be at least 10 seconds/);
  refused({ TWOFOLD_SESSION_IDLE: '2h', TWOFOLD_SESSION_MAX: '1h' }, /TWOFOLD_SESSION_MAX \(1h\) must not be shorter than TWOFOLD_SESSION_IDLE \(2h\)/);
  refused({ TWOFOLD_SESSION_IDLE: '30m', TWOFOLD_SESSION_MAX: '401d' }, /TWOFOLD_SESSION_MAX must be at most 400 days/);
  refused({ TWOFOLD_SESSION_IDLE: '99999999999999999999d' }, /TWOFOLD_SESSION_IDLE/);
  refused({ TWOFOLD_SESSION_MAX: '99999999999999999999d' }, /TWOFOLD_SESSION_MAX/);
  // Sensible ones are taken, including an idle limit below a minute.
  const c = load({ TWOFOLD_SESSION_IDLE: '30s', TWOFOLD_SESSION_MAX: '30s' });
  assert.equal(c.sessionIdleMs, 30_000);
  assert.equal(c.sessionMaxMs, 30_000);
  assert.equal(load({ TWOFOLD_SESSION_IDLE: '7d', TWOFOLD_SESSION_MAX: '400d' }).sessionMaxMs, 400 * 86_400_000);
});
