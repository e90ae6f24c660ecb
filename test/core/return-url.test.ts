import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUnderDomain, safeReturnUrl, type ReturnUrlPolicy } from '../../src/core/return-url.js';

const withDomain: ReturnUrlPolicy = { publicHostname: 'auth.example.com', cookieDomain: 'example.com' };
const hostOnly: ReturnUrlPolicy = { publicHostname: 'auth.example.com', cookieDomain: undefined };

// [input, expected with cookie domain example.com, expected with PUBLIC_URL's host only]
const cases: [unknown, string | undefined, string | undefined][] = [
  // Honoured
  ['https://app.example.com/', 'https://app.example.com/', undefined],
  ['https://app.example.com/wiki/page?x=1&y=%2F', 'https://app.example.com/wiki/page?x=1&y=%2F', undefined],
  ['http://app.example.com:8080/a', 'http://app.example.com:8080/a', undefined],
  ['https://example.com/', 'https://example.com/', undefined],
  ['https://deep.sub.example.com/x', 'https://deep.sub.example.com/x', undefined],
  ['https://auth.example.com/settings', 'https://auth.example.com/settings', 'https://auth.example.com/settings'],
  ['https://auth.example.com:3000/x', 'https://auth.example.com:3000/x', 'https://auth.example.com:3000/x'],
  ['https://app.example.com', 'https://app.example.com/', undefined],
  ['https://app.example.com:443/x', 'https://app.example.com/x', undefined],
  // Uppercase scheme and host: honoured, emitted lower-case
  ['HTTPS://APP.EXAMPLE.COM/Path', 'https://app.example.com/Path', undefined],
  ['https://Auth.Example.Com/', 'https://auth.example.com/', 'https://auth.example.com/'],
  // Fragments are dropped; dot segments resolved before the check
  ['https://app.example.com/a#frag', 'https://app.example.com/a', undefined],
  ['https://app.example.com/a/../b/./c', 'https://app.example.com/b/c', undefined],
  ['https://app.example.com/%2e%2e/x', 'https://app.example.com/x', undefined],
  // Other hosts
  ['https://evil.example', undefined, undefined],
  ['https://evil.example/https://app.example.com/', undefined, undefined],
  ['//evil.example', undefined, undefined],
  ['//app.example.com/', undefined, undefined],
  ['///evil.example', undefined, undefined],
  ['/settings', undefined, undefined],
  ['app.example.com/x', undefined, undefined],
  ['https://example.com.evil.example/', undefined, undefined],
  ['https://evilexample.com/', undefined, undefined],
  ['https://app.example.com.evil.example/', undefined, undefined],
  ['https://notexample.com', undefined, undefined],
  ['https://com/', undefined, undefined],
  ['https://auth.example.org/', undefined, undefined],
  // Schemes
  ['javascript:alert(1)', undefined, undefined],
  ['JavaScript://app.example.com/%0aalert(1)', undefined, undefined],
  ['data:text/html,<script>alert(1)</script>', undefined, undefined],
  ['ftp://app.example.com/', undefined, undefined],
  ['file:///etc/passwd', undefined, undefined],
  ['https:app.example.com', undefined, undefined],
  ['https:/app.example.com', undefined, undefined],
  ['ws://app.example.com/', undefined, undefined],
  // Backslashes (browsers read them as slashes)
  ['https:\\\\evil.example', undefined, undefined],
  ['https:/\\evil.example', undefined, undefined],
  ['https://evil.example\\.app.example.com/', undefined, undefined],
  ['https://app.example.com\\@evil.example', undefined, undefined],
  ['https://app.example.com/\\evil.example', undefined, undefined],
  // User info tricks
  ['https://app.example.com@evil.example', undefined, undefined],
  ['https://app.example.com:443@evil.example/', undefined, undefined],
  ['https://evil.example@app.example.com/', undefined, undefined],
  ['https://user:pass@app.example.com/', undefined, undefined],
  ['https://app.example.com%40evil.example/', undefined, undefined],
  ['https://app.example.com%2F@evil.example', undefined, undefined],
  // Encoded forms
  ['https%3A%2F%2Fevil.example', undefined, undefined],
  ['https%3A%2F%2Fapp.example.com%2F', undefined, undefined],
  ['%2F%2Fevil.example', undefined, undefined],
  ['https://evil%2eexample/', undefined, undefined],
  ['https://app.example.com%2eevil.example/', undefined, undefined],
  ['https://evil.example%2f.example.com/', undefined, undefined],
  ['https://evil.example%00.example.com/', undefined, undefined],
  ['https://evil.example%23.example.com/', undefined, undefined],
  ['https://evil.example?.example.com', undefined, undefined],
  ['https://evil.example#.example.com', undefined, undefined],
  ['https://evil.example/.example.com', undefined, undefined],
  // Tabs, newlines, spaces, control characters
  ['https://app.example.com/\tx', undefined, undefined],
  ['https://evil.ex\tample/', undefined, undefined],
  ['https://evil.example\n.app.example.com/', undefined, undefined],
  ['java\nscript:alert(1)', undefined, undefined],
  ['\thttps://app.example.com/', undefined, undefined],
  [' https://app.example.com/', undefined, undefined],
  ['https://app.example.com/ x', undefined, undefined],
  ['https://app.example.com/\u0000', undefined, undefined],
  ['https://app.example.com/\r\nSet-Cookie: x=1', undefined, undefined],
  // Ports
  ['https://app.example.com:99999/', undefined, undefined],
  ['https://app.example.com:-1/', undefined, undefined],
  ['https://app.example.com:abc/', undefined, undefined],
  // IDN and look-alikes: raw non-ASCII refused; punycode judged by the name it is
  ['https://äpp.example.com/', undefined, undefined],
  ['https://exаmple.com/', undefined, undefined],
  ['https://xn--pp-via.example.com/', 'https://xn--pp-via.example.com/', undefined],
  ['https://xn--exmple-4nf.com/', undefined, undefined],
  ['https://app.example.com\u3002evil.example/', undefined, undefined],
  ['https://app．example．com/', undefined, undefined],
  // Trailing dots
  ['https://app.example.com./', undefined, undefined],
  ['https://auth.example.com./', undefined, undefined],
  ['https://example.com../', undefined, undefined],
  // IP addresses and odd hosts
  ['http://127.0.0.1/', undefined, undefined],
  ['http://0x7f.1/', undefined, undefined],
  ['http://[::1]/', undefined, undefined],
  ['http://2130706433/', undefined, undefined],
  // Not strings, empty, too long
  [undefined, undefined, undefined],
  [null, undefined, undefined],
  [42, undefined, undefined],
  [['https://app.example.com/'], undefined, undefined],
  ['', undefined, undefined],
  [`https://app.example.com/${'a'.repeat(2100)}`, undefined, undefined],
];

test('rd is honoured only for http(s) under the cookie domain or on PUBLIC_URL host, as it will be emitted', () => {
  for (const [input, withCookieDomain, onlyPublicHost] of cases) {
    assert.equal(safeReturnUrl(input, withDomain), withCookieDomain, `cookie domain: ${JSON.stringify(input)}`);
    assert.equal(safeReturnUrl(input, hostOnly), onlyPublicHost, `public host only: ${JSON.stringify(input)}`);
  }
});

test('what is honoured parses back to itself, with an allowed host and no user info', () => {
  for (const [input] of cases) {
    const out = safeReturnUrl(input, withDomain);
    if (out === undefined) continue;
    const u = new URL(out);
    assert.equal(u.href, out);
    assert.ok(u.hostname === 'auth.example.com' || isUnderDomain(u.hostname, 'example.com'), out);
    assert.equal(u.username + u.password, '');
    assert.match(u.protocol, /^https?:$/);
  }
});

test('isUnderDomain: the domain itself and its subdomains, nothing that merely ends like it', () => {
  assert.equal(isUnderDomain('example.com', 'example.com'), true);
  assert.equal(isUnderDomain('a.example.com', 'example.com'), true);
  assert.equal(isUnderDomain('a.b.example.com', 'example.com'), true);
  assert.equal(isUnderDomain('badexample.com', 'example.com'), false);
  assert.equal(isUnderDomain('.example.com', 'example.com'), false);
  assert.equal(isUnderDomain('example.com.evil', 'example.com'), false);
});
