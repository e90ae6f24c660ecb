import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { cryptoRandom, type RandomSource } from '../../src/core/random.js';
import { hashToken } from '../../src/core/token.js';
import { deviceLabel, isTrustedDeviceUsable, newTrustedDevice, TRUSTED_DEVICE_MS } from '../../src/core/trusted-device.js';

const UA = {
  chromeMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  edgeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51',
  chromiumLinux:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/120.0.0.0 Chrome/120.0.0.0 Safari/537.36',
  safariMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  chromeAndroid:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  chromeIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
  firefoxLinux: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  safariIpad:
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  androidWebView:
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Mobile Safari/537.36',
};

test('labels for common user agents', () => {
  assert.equal(deviceLabel(UA.chromeMac), 'Chrome on macOS');
  assert.equal(deviceLabel(UA.firefoxWindows), 'Firefox on Windows');
  assert.equal(deviceLabel(UA.safariIphone), 'Safari on iPhone');
  assert.equal(deviceLabel(UA.edgeWindows), 'Edge on Windows');
  assert.equal(deviceLabel(UA.chromiumLinux), 'Chromium on Linux');
  assert.equal(deviceLabel(UA.safariMac), 'Safari on macOS');
  assert.equal(deviceLabel(UA.chromeAndroid), 'Chrome on Android');
  assert.equal(deviceLabel(UA.chromeIphone), 'Chrome on iPhone');
  assert.equal(deviceLabel(UA.firefoxLinux), 'Firefox on Linux');
  assert.equal(deviceLabel(UA.safariIpad), 'Safari on iPad');
  assert.equal(deviceLabel(UA.androidWebView), 'Unknown browser on Android');
});

test('unknown and hostile user agents', () => {
  assert.equal(deviceLabel(null), 'Unknown browser');
  assert.equal(deviceLabel(''), 'Unknown browser');
  assert.equal(deviceLabel('curl/8.5.0'), 'Unknown browser');
  assert.equal(deviceLabel('<script>alert(1)</script>'), 'Unknown browser');
  const huge = `${'Mozilla/5.0 ('.repeat(100_000)}Firefox/1`;
  const started = performance.now();
  const label = deviceLabel(huge);
  assert.ok(performance.now() - started < 100);
  assert.ok(label.length <= 80);
  for (const ua of Object.values(UA)) assert.ok(deviceLabel(ua).length <= 80);
});

test('a new device expires 30 days after it was trusted and stores only the hash', () => {
  assert.equal(TRUSTED_DEVICE_MS, 30 * 24 * 3600 * 1000);
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const device = newTrustedDevice({ userAgent: UA.firefoxWindows }, clock, cryptoRandom);
  assert.equal(device.createdAt, clock.now());
  assert.equal(device.expiresAt, Date.UTC(2026, 0, 31));
  assert.match(device.token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(device.tokenHash, hashToken(device.token));
  assert.notEqual(device.tokenHash, device.token);
  assert.equal(device.label, 'Firefox on Windows');
  assert.equal(newTrustedDevice({ userAgent: null }, clock, cryptoRandom).label, 'Unknown browser');
});

test('token comes from the injected random source', () => {
  const random: RandomSource = { bytes: (n) => new Uint8Array(n).fill(1) };
  const a = newTrustedDevice({ userAgent: null }, manualClock(), random);
  const b = newTrustedDevice({ userAgent: null }, manualClock(), random);
  assert.equal(a.token, b.token);
  assert.notEqual(newTrustedDevice({ userAgent: null }, manualClock(), cryptoRandom).token, a.token);
});

test('usable only by its own account and only before expiry', () => {
  const clock = manualClock();
  const device = { userId: 'u1', ...newTrustedDevice({ userAgent: UA.chromeMac }, clock, cryptoRandom) };
  assert.equal(isTrustedDeviceUsable(device, 'u1', clock.now()), true);
  assert.equal(isTrustedDeviceUsable(device, 'u2', clock.now()), false);
  clock.advance(TRUSTED_DEVICE_MS - 1);
  assert.equal(isTrustedDeviceUsable(device, 'u1', clock.now()), true);
  clock.advance(1);
  assert.equal(isTrustedDeviceUsable(device, 'u1', clock.now()), false);
});
