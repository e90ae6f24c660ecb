import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  changeEmailMessage,
  escapeHtml,
  noticeMessage,
  NOTICE_KINDS,
  passwordResetMessage,
  testMessage,
  utc,
  verifyEmailMessage,
  type Rendered,
} from '../../src/service/mail/templates.js';

const site = { issuer: 'Acme <Login>', origin: 'https://login.example' };
const event = { at: Date.UTC(2026, 4, 17, 9, 5, 30), ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
const SECURE = 'https://login.example/account/secure?token=abcDEF_-123';

function both(r: Rendered): string {
  return r.text + '\n' + r.html;
}

test('every notice: what happened, when in UTC, IP, browser, what to do, and a This wasn’t me link; text and HTML', () => {
  for (const kind of NOTICE_KINDS) {
    const r = noticeMessage(site, { kind, email: 'ada@example.com', event, detail: { keyName: 'YubiKey', remaining: 5, newEmail: 'new@example.com' }, secureUrl: SECURE });
    assert.ok(r.subject.length > 5, kind);
    for (const part of [r.text, r.html]) {
      assert.ok(part.includes('2026-05-17 09:05 UTC'), `${kind}: when`);
      assert.ok(part.includes('203.0.113.7'), `${kind}: ip`);
      assert.ok(part.includes('Firefox on Linux'), `${kind}: browser`);
      assert.ok(part.includes(SECURE), `${kind}: link`);
      assert.ok(/This wasn(’|'|&#39;)t me/.test(part), `${kind}: This wasn't me`);
      assert.ok(/If it was not you/.test(part), `${kind}: what to do`);
    }
    assert.match(r.html, /^<!doctype html>/);
    assert.doesNotMatch(r.text, /<(p|a|div|html|table)[ >]/i, `${kind}: the text part has no markup`);
  }
});

test('people’s text is escaped in HTML and kept to one line (key names, addresses)', () => {
  const evil = '<script>alert(1)</script>"&\'\nBcc: x@evil.example';
  const r = noticeMessage(site, { kind: 'security_key_added', email: 'a@b.c', event: { ...event, userAgent: '<img src=x onerror=alert(1)>' }, detail: { keyName: evil }, secureUrl: SECURE });
  assert.ok(!r.html.includes('<script>'), 'no markup from a key name');
  assert.ok(!r.html.includes('<img'), 'no markup from a user agent');
  assert.ok(r.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39; Bcc: x@evil.example'));
  assert.ok(!/\nBcc:/.test(r.text), 'no line break from a key name');
  assert.ok(r.html.includes('Acme &lt;Login&gt;'), 'the issuer is escaped too');
  const c = changeEmailMessage(site, { newEmail: 'x"><b>@example.com', url: 'https://login.example/email/verify?token=a&b' });
  assert.ok(!c.html.includes('"><b>'));
  assert.ok(c.html.includes('href="https://login.example/email/verify?token=a&amp;b"'));
  assert.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;');
});

test('recovery code used: how many remain, and a warning at 2 or fewer', () => {
  const n = (remaining: number) => both(noticeMessage(site, { kind: 'recovery_code_used', email: 'a@b.c', event, detail: { remaining }, secureUrl: SECURE }));
  assert.match(n(7), /7 recovery codes remain/);
  assert.doesNotMatch(n(3), /Only \d/);
  assert.match(n(2), /Only 2 recovery codes are left/);
  assert.match(n(1), /1 recovery code remains/);
  assert.match(n(0), /Only 0 recovery codes are left/);
});

test('no message carries a code, password or secret: only links', () => {
  const messages = [
    verifyEmailMessage(site, { email: 'a@b.c', url: 'https://login.example/email/verify?token=T1' }),
    changeEmailMessage(site, { newEmail: 'n@b.c', url: 'https://login.example/email/verify?token=T2' }),
    passwordResetMessage(site, { url: 'https://login.example/password/reset?token=T3', event }),
    passwordResetMessage(site, { url: 'https://login.example/password/reset?token=T4', event, required: true }),
    testMessage(site, { at: event.at }),
    ...NOTICE_KINDS.map((kind) => noticeMessage(site, { kind, email: 'a@b.c', event, detail: {}, secureUrl: SECURE })),
  ];
  for (const m of messages) {
    const all = both(m);
    assert.doesNotMatch(all, /\b\d{6}\b/, 'no 6-digit code');
    assert.doesNotMatch(all, /[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}/i, 'no recovery code');
    assert.doesNotMatch(all, /otpauth:|secret=/i, 'no TOTP secret');
    assert.ok(m.html.includes('Acme &lt;Login&gt;') && m.text.includes('Acme <Login>'), 'names the issuer');
  }
  assert.equal(utc(Date.UTC(2026, 0, 2, 3, 4)), '2026-01-02 03:04 UTC');
});
