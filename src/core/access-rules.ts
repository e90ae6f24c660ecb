/**
 * Access rules for forward authentication (SPEC §8): parsed and validated once, compiled into
 * matchers (lower-cased domains, wildcard suffixes, regular expressions, method and subject sets,
 * durations), so that a decision is an in-memory walk over prepared data — no parsing per request.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { parseDuration } from './duration.js';
import { parseGroupName } from './groups.js';

export const POLICIES = ['bypass', 'one_factor', 'two_factor', 'deny'] as const;
export type Policy = (typeof POLICIES)[number];
export const DEFAULT_POLICIES = ['deny', 'one_factor', 'two_factor'] as const;
export type DefaultPolicy = (typeof DEFAULT_POLICIES)[number];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);
const RULE_KEYS = ['domain', 'resources', 'subject', 'methods', 'policy', 'fresh'] as const;
const FILE_KEYS = ['default_policy', 'rules'] as const;

const Text = Type.String({ minLength: 1, maxLength: 2048 });
const OneOrMany = Type.Union([Text, Type.Array(Text, { minItems: 1, maxItems: 1000 })]);
const RuleSchema = Type.Object(
  {
    domain: Type.Optional(OneOrMany),
    resources: Type.Optional(OneOrMany),
    subject: Type.Optional(OneOrMany),
    methods: Type.Optional(OneOrMany),
    policy: Type.Union(POLICIES.map((p) => Type.Literal(p))),
    fresh: Type.Optional(Type.Union([Text, Type.Number({ exclusiveMinimum: 0 })])),
  },
  { additionalProperties: false },
);
/** The file's schema: what is checked before anything is compiled. */
export const AccessRulesSchema = Type.Object(
  {
    default_policy: Type.Optional(Type.Union(DEFAULT_POLICIES.map((p) => Type.Literal(p)))),
    rules: Type.Optional(Type.Array(RuleSchema, { maxItems: 10_000 })),
  },
  { additionalProperties: false },
);
type RulesFile = Static<typeof AccessRulesSchema>;

export class AccessRulesError extends Error {
  override name = 'AccessRulesError';
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
  }
}

interface DomainMatcher {
  exact: ReadonlySet<string>;
  /** ".example.com" for "*.example.com": any subdomain at any depth, not the apex. */
  suffixes: readonly string[];
}

export interface CompiledRule {
  /** 1-based position in the file, for logs. */
  index: number;
  line: number | undefined;
  domains: DomainMatcher | null;
  resources: readonly RegExp[] | null;
  methods: ReadonlySet<string> | null;
  users: ReadonlySet<string> | null;
  groups: ReadonlySet<string> | null;
  policy: Policy;
  freshMs: number | null;
}

export interface AccessRules {
  defaultPolicy: DefaultPolicy;
  rules: readonly CompiledRule[];
}

/**
 * No file: nothing was allowed, so nothing is (default deny). With open signup anyone can make an
 * account, so "any signed-in person" would be no protection at all.
 */
export const NO_RULES: AccessRules = { defaultPolicy: 'deny', rules: [] };

/** What the proxy asked about, already normalised by the caller: lower-case host without port. */
export interface AccessRequest {
  host: string;
  /** Path with its query, as the browser sent it: `/a/b?x=1`. */
  path: string;
  method: string;
}

/** The signed-in person, as the one session lookup found them. */
export interface AccessSubject {
  email: string;
  groups: readonly string[];
  /** A second factor verified at this login or set up in this session (core/amr.ts). */
  secondFactor: boolean;
  /** Last full authentication, or null (a trusted-device login). */
  authenticatedAt: number | null;
}

export type Decision =
  | { result: 'allow'; rule: number | null }
  /** Send to log in; `step` says what is missing when the person is signed in already. */
  | { result: 'login'; step: 'login' | 'second_factor' | 'fresh'; rule: number | null }
  | { result: 'forbidden'; rule: number | null };

// ---------------------------------------------------------------------------------------------
// Loading

function lineOf(lc: LineCounter, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : lc.linePos(offset).line;
}

/** The line of the node at `path`, or of the nearest parent that exists (the key's own line for a map key). */
function locate(doc: Document, lc: LineCounter, path: readonly (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let line = lineOf(lc, (node as Node | null)?.range?.[0]);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
      if (!pair) return line;
      line = lineOf(lc, (pair.key as Node | null)?.range?.[0]) ?? line;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(seg)];
      line = lineOf(lc, (node as Node | null)?.range?.[0]) ?? line;
    } else {
      return line;
    }
  }
  return line;
}

function pathOf(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(path: readonly (string | number)[]): string {
  if (path.length === 0) return 'the file';
  if (path[0] === 'rules' && typeof path[1] === 'number') {
    const rest = path.slice(2);
    return `rule ${path[1] + 1}${rest.length ? ` "${rest.join('.')}"` : ''}`;
  }
  return `"${path.join('.')}"`;
}

/** One clear sentence for the first schema error, preferring unknown keys (the likeliest typo). */
function explain(errors: ValueError[]): { path: (string | number)[]; message: string } {
  const unknown = errors.find((e) => e.message === 'Unexpected property');
  if (unknown) {
    const path = pathOf(unknown.path);
    const key = String(path.at(-1));
    const parent = path.slice(0, -1);
    const allowed = parent.length === 0 ? FILE_KEYS : RULE_KEYS;
    return { path, message: `unknown key "${key}" in ${describe(parent)} (allowed: ${allowed.join(', ')})` };
  }
  const first = errors[0]!;
  const path = pathOf(first.path);
  const key = path.at(-1);
  if (first.message === 'Expected required property') return { path, message: `${describe(path.slice(0, -1))} needs "${String(key)}"` };
  if (key === 'policy') return { path, message: `${describe(path.slice(0, -1))}: policy must be one of ${POLICIES.join(', ')}` };
  if (key === 'default_policy') return { path, message: `default_policy must be one of ${DEFAULT_POLICIES.join(', ')}` };
  if (path.length === 0) return { path, message: 'the file must be a mapping with default_policy and rules' };
  const listKey = [...path].reverse().find((p) => typeof p === 'string');
  if (listKey === 'domain' || listKey === 'resources' || listKey === 'subject' || listKey === 'methods') {
    return { path, message: `${describe(path.slice(0, 2))}: ${listKey} must be a non-empty text or a list of them` };
  }
  if (key === 'fresh') return { path, message: `${describe(path.slice(0, 2))}: fresh must be a duration such as 10m` };
  if (key === 'rules') return { path, message: 'rules must be a list' };
  if (typeof key === 'number' && path.length === 2) return { path, message: `${describe(path)} must be a mapping` };
  return { path, message: `${describe(path)}: ${first.message.toLowerCase()}` };
}

function fail(doc: Document, lc: LineCounter, source: string, path: (string | number)[], message: string): never {
  const line = locate(doc, lc, path);
  throw new AccessRulesError(`${source}${line !== undefined ? `, line ${line}` : ''}: ${message}`, line);
}

function list(v: string | readonly string[] | undefined): readonly string[] | undefined {
  return v === undefined ? undefined : typeof v === 'string' ? [v] : v;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

/**
 * Parses YAML (or JSON, which YAML reads too) and compiles it. Every mistake — a parse error, an
 * unknown key, a wrong type, a bad regular expression, domain, subject, method or duration — throws
 * an AccessRulesError naming the line.
 */
export function parseAccessRules(text: string, source = 'access rules'): AccessRules {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true, strict: true });
  const parseError = doc.errors[0];
  if (parseError) {
    const line = parseError.linePos?.[0]?.line;
    const reason = parseError.code === 'DUPLICATE_KEY' ? 'a key appears twice in one mapping' : parseError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new AccessRulesError(`${source}${line !== undefined ? `, line ${line}` : ''}: ${reason}`, line);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new AccessRulesError(`${source}: ${(err as Error).message}`, undefined);
  }
  if (raw === null || raw === undefined) raw = {};
  // "rules:" with nothing after it is an empty list, not a type error.
  if (typeof raw === 'object' && !Array.isArray(raw) && (raw as { rules?: unknown }).rules === null) raw = { ...raw, rules: [] };
  const errors = [...Value.Errors(AccessRulesSchema as TSchema, raw)];
  if (errors.length > 0) {
    const { path, message } = explain(errors);
    fail(doc, lc, source, path, message);
  }
  const file = raw as RulesFile;
  const rules = (file.rules ?? []).map((r, i): CompiledRule => {
    const at = (key: string, n?: number) => (n === undefined ? ['rules', i, key] : ['rules', i, key, n]);
    const oops = (path: (string | number)[], message: string): never => fail(doc, lc, source, path, `rule ${i + 1}: ${message}`);

    let domains: DomainMatcher | null = null;
    const domainList = list(r.domain);
    if (domainList) {
      const exact = new Set<string>();
      const suffixes: string[] = [];
      domainList.forEach((d, n) => {
        const name = d.trim().toLowerCase();
        if (!DOMAIN.test(name) || name.length > 253) {
          oops(at('domain', typeof r.domain === 'string' ? undefined : n), `"${d}" is not a domain name (use app.example.com or *.example.com)`);
        }
        if (name.startsWith('*.')) suffixes.push(name.slice(1));
        else exact.add(name);
      });
      domains = { exact, suffixes };
    }

    let resources: RegExp[] | null = null;
    const resourceList = list(r.resources);
    if (resourceList) {
      resources = resourceList.map((src, n) => {
        try {
          return new RegExp(src);
        } catch (err) {
          return oops(at('resources', typeof r.resources === 'string' ? undefined : n), `not a regular expression: ${(err as Error).message}`);
        }
      });
    }

    let methods: Set<string> | null = null;
    const methodList = list(r.methods);
    if (methodList) {
      methods = new Set();
      methodList.forEach((m, n) => {
        const name = m.trim().toUpperCase();
        if (!METHODS.has(name)) oops(at('methods', typeof r.methods === 'string' ? undefined : n), `"${m}" is not an HTTP method`);
        methods!.add(name);
      });
    }

    let users: Set<string> | null = null;
    let groups: Set<string> | null = null;
    const subjectList = list(r.subject);
    if (subjectList) {
      users = new Set();
      groups = new Set();
      subjectList.forEach((s, n) => {
        const where = at('subject', typeof r.subject === 'string' ? undefined : n);
        const m = /^(user|group):(.+)$/.exec(s.trim());
        if (!m) return oops(where, `subject "${s}" must be user:<email> or group:<name>`);
        if (m[1] === 'user') {
          const email = m[2]!.trim().toLowerCase();
          if (!/^[^\s@]+@[^\s@]+$/.test(email)) oops(where, `"${s}" does not name an email address`);
          users!.add(email);
        } else {
          const group = parseGroupName(m[2]!);
          if (!group) oops(where, `"${s}" does not name a group (letters, digits, ".", "_", "-")`);
          groups!.add(group!);
        }
      });
    }

    let freshMs: number | null = null;
    if (r.fresh !== undefined) {
      if (r.policy !== 'one_factor' && r.policy !== 'two_factor') oops(at('fresh'), 'fresh applies only to one_factor and two_factor rules');
      try {
        freshMs = parseDuration(String(r.fresh));
      } catch (err) {
        oops(at('fresh'), (err as Error).message);
      }
    }

    return { index: i + 1, line: locate(doc, lc, ['rules', i]), domains, resources, methods, users, groups, policy: r.policy, freshMs };
  });
  return { defaultPolicy: file.default_policy ?? 'deny', rules };
}

// ---------------------------------------------------------------------------------------------
// Matching

function domainMatches(m: DomainMatcher, host: string): boolean {
  if (m.exact.has(host)) return true;
  for (const s of m.suffixes) if (host.length > s.length && host.endsWith(s)) return true;
  return false;
}

/** Everything but the subject: what can be known without knowing who asks. */
function requestMatches(rule: CompiledRule, req: AccessRequest): boolean {
  if (rule.domains && !domainMatches(rule.domains, req.host)) return false;
  if (rule.methods && !rule.methods.has(req.method)) return false;
  if (rule.resources && !rule.resources.some((re) => re.test(req.path))) return false;
  return true;
}

function subjectMatches(rule: CompiledRule, who: AccessSubject): boolean {
  if (!rule.users || !rule.groups) return true;
  if (rule.users.has(who.email.toLowerCase())) return true;
  for (const g of who.groups) if (rule.groups.has(g)) return true;
  return false;
}

function hasSubject(rule: CompiledRule): boolean {
  return rule.users !== null;
}

/**
 * The first rule that matches decides; none → default_policy. A visitor who is not signed in is
 * sent to log in whatever the rule (never 403) unless the deciding rule is a `bypass` that does not
 * depend on who asks; a rule with a subject cannot be decided for an anonymous visitor, so it asks
 * them to log in.
 */
export function decide(rules: AccessRules, req: AccessRequest, who: AccessSubject | null, now: number): Decision {
  let policy: Policy = rules.defaultPolicy;
  let freshMs: number | null = null;
  let ruleIndex: number | null = null;
  for (const rule of rules.rules) {
    if (!requestMatches(rule, req)) continue;
    if (!who) {
      if (hasSubject(rule)) return { result: 'login', step: 'login', rule: rule.index };
    } else if (!subjectMatches(rule, who)) {
      continue;
    }
    policy = rule.policy;
    freshMs = rule.freshMs;
    ruleIndex = rule.index;
    break;
  }
  if (policy === 'bypass') return { result: 'allow', rule: ruleIndex };
  if (!who) return { result: 'login', step: 'login', rule: ruleIndex };
  if (policy === 'deny') return { result: 'forbidden', rule: ruleIndex };
  if (policy === 'two_factor' && !who.secondFactor) return { result: 'login', step: 'second_factor', rule: ruleIndex };
  if (freshMs !== null && (who.authenticatedAt === null || now - who.authenticatedAt >= freshMs)) {
    return { result: 'login', step: 'fresh', rule: ruleIndex };
  }
  return { result: 'allow', rule: ruleIndex };
}
