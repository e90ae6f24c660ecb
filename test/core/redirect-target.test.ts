import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameOriginPath } from '../../src/core/redirect-target.js';

/** Whatever is accepted must, followed by a browser from https://login.example, stay on that origin. */
function staysHome(path: string): boolean {
  const base = 'https://login.example/some/page';
  return new URL(path, base).origin === 'https://login.example';
}

const REFUSED: [string, unknown][] = [
  // Dot segments that normalise to a protocol-relative URL (the review's findings).
  ['dot-dot then //', '/..//evil.example'],
  ['dot then //', '/.//x'],
  ['encoded dot-dot then //', '/%2e%2e//x'],
  ['upper-case encoded dot-dot', '/%2E%2E//evil.example'],
  ['segment, dot-dot, //', '/a/..//x'],
  ['segment, encoded dot-dot, //', '/a/%2e%2e//x'],
  ['mixed encoded dots', '/a/.%2e//evil.example'],
  ['two levels up', '/a/b/../..//evil.example'],
  // Protocol-relative and absolute.
  ['//host', '//evil.example'],
  ['///host', '///evil.example'],
  ['////host', '////evil.example/x'],
  ['absolute http', 'http://evil.example/'],
  ['absolute https', 'https://evil.example/'],
  ['scheme-relative with userinfo', '//user:pass@evil.example'],
  ['userinfo looking path', '//login.example@evil.example'],
  ['javascript:', 'javascript:alert(1)'],
  ['JavaScript: mixed case', 'JaVaScRiPt:alert(1)'],
  ['data:', 'data:text/html,<script>alert(1)</script>'],
  ['vbscript:', 'vbscript:msgbox(1)'],
  ['relative path', 'settings'],
  ['dot relative', './settings'],
  // Backslashes, raw and encoded (browsers read \ as / in http URLs).
  ['backslash', '/\\evil.example'],
  ['two backslashes', '\\\\evil.example'],
  ['slash backslash', '/\\/evil.example'],
  ['encoded backslash', '/%5cevil.example'],
  ['encoded backslash lower', '/%5Cevil.example'],
  ['encoded slash', '/%2fevil.example'],
  ['encoded double slash', '/%2f%2fevil.example'],
  ['double-encoded slashes', '/%252f%252fevil.example'],
  ['triple-encoded slashes', '/%25252f%25252fevil.example'],
  ['double-encoded backslash', '/%255cevil.example'],
  // Whitespace and control characters, which URL parsers strip or trim.
  ['tab inside //', '/\t/evil.example'],
  ['newline inside //', '/\n/evil.example'],
  ['CR inside //', '/\r/evil.example'],
  ['CRLF header injection', '/x\r\nSet-Cookie: a=b'],
  ['NUL', '/x\u0000'],
  ['encoded NUL', '/x%00'],
  ['encoded newline in the path', '/x%0d%0aSet-Cookie:%20a=b'],
  ['leading space', ' /settings'],
  ['leading spaces then //', '  //evil.example'],
  ['leading tab', '\t//evil.example'],
  ['trailing space', '/settings '],
  ['DEL', '/x\u007f'],
  // Unicode lookalikes and other non-ASCII: a real target arrives percent-encoded.
  ['fullwidth solidus', '/\uff0fevil.example'],
  ['fullwidth full stops', '/\uff0e\uff0e//evil.example'],
  ['ideographic full stop', '/\u3002\u3002//evil.example'],
  ['division slash', '/\u2215evil.example'],
  ['fraction slash', '/\u2044evil.example'],
  ['right-to-left override', '/\u202eelpmaxe.live//'],
  ['non-breaking space', '\u00a0//evil.example'],
  // Shapes and sizes.
  ['empty', ''],
  ['not a string', 42],
  ['an array', ['/settings']],
  ['null', null],
  ['undefined', undefined],
  ['too long', '/' + 'a'.repeat(600)],
  ['malformed escape', '/%zz/../'],
  ['lone percent', '/%'],
];

const ACCEPTED: [string, string, string][] = [
  ['plain path', '/settings', '/settings'],
  ['path and query', '/settings?tab=security&x=1', '/settings?tab=security&x=1'],
  ['fragment dropped', '/settings#security-log', '/settings'],
  ['dot segments resolved', '/a/b/../c', '/a/c'],
  ['dot segment', '/./settings', '/settings'],
  ['dot-dot above the root', '/../settings', '/settings'],
  ['encoded space', '/a%20b', '/a%20b'],
  ['@ inside a path', '/@evil.example', '/@evil.example'],
  ['// inside the query', '/x?next=//evil.example', '/x?next=//evil.example'],
  ['encoded UTF-8', '/caf%C3%A9', '/caf%C3%A9'],
  ['root', '/', '/'],
];

test('sameOriginPath refuses every trick', () => {
  for (const [what, value] of REFUSED) {
    assert.equal(sameOriginPath(value), undefined, `${what}: ${JSON.stringify(value)} was accepted as ${JSON.stringify(sameOriginPath(value))}`);
  }
});

test('sameOriginPath keeps real same-origin paths, normalised as they will be emitted', () => {
  for (const [what, value, emitted] of ACCEPTED) {
    assert.equal(sameOriginPath(value), emitted, what);
    assert.ok(staysHome(emitted), `${what}: ${emitted} leaves the origin`);
    assert.equal(sameOriginPath(emitted), emitted, `${what}: validating the output again changes it`);
  }
});

test('whatever sameOriginPath accepts stays on the origin, also for generated tricks', () => {
  const parts = ['/', '//', '\\', '.', '..', '%2e', '%2f', '%5c', '%252f', '\t', '\n', ' ', 'evil.example', '@', '?', '#', ':', 'a', '\uff0f', '%00'];
  // Every sequence of one to four parts: 168,420 candidates.
  let level = [''];
  const seqs: string[] = [];
  for (let len = 1; len <= 4; len++) {
    level = level.flatMap((s) => parts.map((p) => s + p));
    for (const s of level) seqs.push(s);
  }
  let accepted = 0;
  for (const s of seqs) {
    const out = sameOriginPath(s);
    if (out === undefined) continue;
    accepted++;
    assert.ok(staysHome(out), `${JSON.stringify(s)} → ${out} leaves the origin`);
    assert.ok(out.startsWith('/') && !out.startsWith('//') && !out.includes('\\'), `${JSON.stringify(s)} → ${out}`);
    assert.equal(sameOriginPath(out), out, `${JSON.stringify(s)}: not stable`);
  }
  assert.ok(accepted > 0);
});
