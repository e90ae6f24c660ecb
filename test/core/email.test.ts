import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMAIL_MAX, parseEmail } from '../../src/core/email.js';

test('trims and lower-cases for lookup, keeps the display form', () => {
  assert.deepEqual(parseEmail('  Ada.Lovelace@Example.COM \t'), { display: 'Ada.Lovelace@Example.COM', normalized: 'ada.lovelace@example.com' });
  assert.deepEqual(parseEmail('a+tag@sub.example.org'), { display: 'a+tag@sub.example.org', normalized: 'a+tag@sub.example.org' });
});

test('refuses what is not an address', () => {
  for (const bad of ['', '   ', 'plain', '@example.com', 'a@', 'a@b', 'a@@b.com', 'a b@example.com', 'a@exa mple.com', 'a@.com', 'a@example.', 'a@example..com']) {
    assert.equal(parseEmail(bad), null, JSON.stringify(bad));
  }
});

test('at most 254 characters', () => {
  const domain = '@example.com';
  assert.ok(parseEmail('a'.repeat(EMAIL_MAX - domain.length) + domain));
  assert.equal(parseEmail('a'.repeat(EMAIL_MAX - domain.length + 1) + domain), null);
});
