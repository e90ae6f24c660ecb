import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AccessRulesError, decide, parseAccessRules, type AccessSubject, type Decision } from '../../src/core/access-rules.js';

const SPEC_EXAMPLE = `default_policy: deny            # deny | one_factor | two_factor
rules:
  - domain: public.example.com
    policy: bypass
  - domain: "*.example.com"
    resources: ["^/healthz$"]   # regular expressions on path and query
    policy: bypass
  - domain: admin.example.com
    subject: ["group:admins"]   # user:<email> or group:<name>; any one matches
    policy: two_factor
    fresh: 10m                  # step-up: a full authentication within 10 minutes
  - domain: [app.example.com, wiki.example.com]
    methods: [GET, HEAD]
    policy: one_factor
`;

const NOW = 1_000_000_000;
const person = (over: Partial<AccessSubject> = {}): AccessSubject => ({ email: 'ann@example.com', groups: [], secondFactor: false, authenticatedAt: NOW - 60_000, ...over });
const req = (url: string, method = 'GET') => {
  const u = new URL(url);
  return { host: u.hostname, path: u.pathname + u.search, method };
};
const result = (d: Decision) => (d.result === 'login' ? `login:${d.step}` : d.result);

describe('rule matching (the SPEC example)', () => {
  const rules = parseAccessRules(SPEC_EXAMPLE);
  const admin = person({ groups: ['admins'], secondFactor: true, authenticatedAt: NOW - 60_000 });
  // [url, method, who, expected]
  const cases: [string, string, AccessSubject | null, string][] = [
    ['https://public.example.com/', 'GET', null, 'allow'],
    ['https://public.example.com/anything?x=1', 'POST', null, 'allow'],
    ['https://public.example.com/', 'GET', person(), 'allow'],
    ['https://app.example.com/healthz', 'GET', null, 'allow'],
    ['https://deep.sub.example.com/healthz', 'DELETE', null, 'allow'],
    ['https://example.com/healthz', 'GET', null, 'login:login'],
    ['https://app.example.com/healthz?x=1', 'GET', null, 'login:login'],
    ['https://app.example.com/x/healthz', 'GET', null, 'login:login'],
    ['https://app.example.com/', 'GET', null, 'login:login'],
    ['https://app.example.com/', 'GET', person(), 'allow'],
    ['https://app.example.com/', 'HEAD', person(), 'allow'],
    ['https://wiki.example.com/page', 'GET', person(), 'allow'],
    ['https://app.example.com/', 'POST', person(), 'forbidden'],
    ['https://app.example.com/', 'POST', null, 'login:login'],
    ['https://admin.example.com/', 'GET', null, 'login:login'],
    ['https://admin.example.com/', 'GET', person(), 'forbidden'],
    ['https://admin.example.com/', 'GET', person({ groups: ['ops'] }), 'forbidden'],
    ['https://admin.example.com/', 'GET', person({ groups: ['admins'] }), 'login:second_factor'],
    ['https://admin.example.com/', 'GET', admin, 'allow'],
    ['https://admin.example.com/', 'POST', admin, 'allow'],
    ['https://admin.example.com/', 'GET', { ...admin, authenticatedAt: NOW - 10 * 60_000 }, 'login:fresh'],
    ['https://admin.example.com/', 'GET', { ...admin, authenticatedAt: NOW - 10 * 60_000 + 1 }, 'allow'],
    ['https://admin.example.com/', 'GET', { ...admin, authenticatedAt: null }, 'login:fresh'],
    ['https://other.example.org/', 'GET', null, 'login:login'],
    ['https://other.example.org/', 'GET', admin, 'forbidden'],
  ];
  for (const [url, method, who, want] of cases) {
    test(`${method} ${url} as ${who ? `${who.email}[${who.groups.join(',')}]${who.secondFactor ? '+2fa' : ''}` : 'anonymous'} → ${want}`, () => {
      assert.equal(result(decide(rules, req(url, method), who, NOW)), want);
    });
  }
});

describe('rule matching (more)', () => {
  const rules = parseAccessRules(`
default_policy: one_factor
rules:
  - domain: "*.corp.example"
    subject: [user:Boss@Example.com, "group:finance"]
    policy: bypass
  - domain: ["*.corp.example"]
    resources: ['^/api/', '\\?debug=1']
    methods: [post, put]
    policy: deny
  - domain: "*.corp.example"
    policy: two_factor
  - resources: "^/secure"
    policy: one_factor
    fresh: 30
  - domain: open.example
    policy: bypass
`);
  const cases: [string, string, AccessSubject | null, string][] = [
    ['https://a.corp.example/', 'GET', person({ email: 'boss@example.com' }), 'allow'],
    ['https://a.corp.example/', 'GET', person({ groups: ['finance', 'x'] }), 'allow'],
    ['https://a.corp.example/', 'GET', null, 'login:login'],
    ['https://corp.example/', 'GET', person(), 'allow'],
    ['https://a.corp.example/api/x', 'POST', person({ secondFactor: true }), 'forbidden'],
    ['https://a.corp.example/api/x', 'GET', person({ secondFactor: true }), 'allow'],
    ['https://a.corp.example/x?debug=1', 'PUT', person({ secondFactor: true }), 'forbidden'],
    ['https://a.corp.example/x', 'GET', person(), 'login:second_factor'],
    ['https://b.c.corp.example/x', 'GET', person({ secondFactor: true }), 'allow'],
    ['https://elsewhere.example/secure/x', 'GET', person({ authenticatedAt: NOW - 29_000 }), 'allow'],
    ['https://elsewhere.example/secure/x', 'GET', person({ authenticatedAt: NOW - 30_000 }), 'login:fresh'],
    ['https://open.example/secure', 'GET', null, 'login:login'],
    ['https://open.example/', 'GET', null, 'allow'],
    ['https://elsewhere.example/', 'GET', null, 'login:login'],
    ['https://elsewhere.example/', 'GET', person(), 'allow'],
  ];
  for (const [url, method, who, want] of cases) {
    test(`${method} ${url} as ${who ? `${who.email}[${who.groups.join(',')}]` : 'anonymous'} → ${want}`, () => {
      assert.equal(result(decide(rules, req(url, method), who, NOW)), want);
    });
  }

  test('a file with no rules uses the default policy; an empty file is deny', () => {
    assert.equal(result(decide(parseAccessRules('default_policy: two_factor'), req('https://x.example/'), person({ secondFactor: true }), NOW)), 'allow');
    assert.equal(result(decide(parseAccessRules('default_policy: two_factor\nrules: []'), req('https://x.example/'), person(), NOW)), 'login:second_factor');
    assert.equal(result(decide(parseAccessRules(''), req('https://x.example/'), person(), NOW)), 'forbidden');
    assert.equal(result(decide(parseAccessRules(''), req('https://x.example/'), null, NOW)), 'login:login');
  });

  test('JSON is accepted', () => {
    const rules = parseAccessRules('{"default_policy": "deny", "rules": [{"domain": "app.example", "policy": "one_factor", "fresh": "8s"}]}');
    assert.equal(rules.rules[0]!.freshMs, 8000);
    assert.equal(result(decide(rules, req('https://app.example/'), person({ authenticatedAt: NOW - 7000 }), NOW)), 'allow');
  });
});

describe('bad rule files stop the start, naming the line', () => {
  const bad: [string, string, number | undefined, RegExp][] = [
    ['unknown top-level key', 'default_policy: deny\nrulez: []\n', 2, /unknown key "rulez"/],
    ['unknown rule key', 'rules:\n  - domain: a.example\n    policy: bypass\n  - domain: b.example\n    polcy: deny\n', 5, /unknown key "polcy" in rule 2.*allowed: domain, resources, subject, methods, policy, fresh/],
    ['missing policy', 'rules:\n  - domain: a.example\n', 2, /rule 1 needs "policy"/],
    ['bad policy', 'rules:\n  - domain: a.example\n    policy: allow\n', 3, /policy must be one of bypass, one_factor, two_factor, deny/],
    ['bad default', 'default_policy: bypass\n', 1, /default_policy must be one of deny, one_factor, two_factor/],
    ['rules not a list', 'rules: {domain: a}\n', 1, /rules must be a list/],
    ['rule not a map', 'rules:\n  - just text\n', 2, /rule 1 must be a mapping/],
    ['bad regex', 'rules:\n  - domain: a.example\n    policy: bypass\n  - resources:\n      - "^/ok"\n      - "^/(unclosed"\n    policy: deny\n', 6, /rule 2: not a regular expression/],
    ['bad domain', 'rules:\n  - domain: "https://a.example/"\n    policy: bypass\n', 2, /not a domain name/],
    ['wildcard in the middle', 'rules:\n  - domain: "a.*.example"\n    policy: bypass\n', 2, /not a domain name/],
    ['bad subject', 'rules:\n  - subject: [admins]\n    policy: bypass\n', 2, /must be user:<email> or group:<name>/],
    ['bad group subject', 'rules:\n  - subject: "group:a,b"\n    policy: bypass\n', 2, /does not name a group/],
    ['bad method', 'rules:\n  - methods: [GET, FETCH]\n    policy: bypass\n', 2, /"FETCH" is not an HTTP method/],
    ['bad duration', 'rules:\n  - policy: two_factor\n    fresh: soon\n', 3, /not a duration/],
    ['fresh on bypass', 'rules:\n  - policy: bypass\n    fresh: 10m\n', 3, /fresh applies only to one_factor and two_factor/],
    ['YAML syntax', 'rules:\n  - domain: [a.example\n    policy: bypass\n', undefined, /./],
    ['duplicate key', 'rules:\n  - domain: a.example\n    policy: bypass\n    policy: deny\n', 4, /a key appears twice/],
    ['not a mapping', '- a\n- b\n', 1, /must be a mapping/],
    ['wrong type in list', 'rules:\n  - domain: [a.example, 3]\n    policy: bypass\n', 2, /./],
    ['JSON unknown key', '{\n  "rules": [\n    {"domain": "a.example", "policy": "bypass", "extra": 1}\n  ]\n}\n', 3, /unknown key "extra"/],
  ];
  for (const [what, text, line, message] of bad) {
    test(what, () => {
      assert.throws(
        () => parseAccessRules(text, 'rules.yml'),
        (err: unknown) => {
          assert.ok(err instanceof AccessRulesError, String(err));
          assert.match(err.message, /^rules\.yml/);
          assert.match(err.message, message);
          if (line !== undefined) {
            assert.equal(err.line, line, err.message);
            assert.match(err.message, new RegExp(`line ${line}:`));
          } else {
            assert.match(err.message, /line \d+/);
          }
          return true;
        },
      );
    });
  }
});
