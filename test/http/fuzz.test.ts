/**
 * A seeded property test of SPEC §3's bad-input rule: thousands of malformed requests — bodies,
 * query parameters, headers, content types — across every route of the OpenAPI document and every
 * HTML form the pages show, as nobody, as a pending login and as a signed-in person, on both
 * databases. None may get a 5xx; every API refusal has the JSON error shape; the database is the same
 * afterwards. TWOFOLD_FUZZ_SEED replays a run, TWOFOLD_FUZZ_RUNS sets its size.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { manualClock } from '../../src/core/clock.js';
import { Client, type Answer } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotTables } from '../helpers/snapshot.js';
import { enableTwoFactor, PASSWORD } from '../helpers/totp.js';

const SEED = Number(process.env.TWOFOLD_FUZZ_SEED ?? 20_261_129);
/** Requests per auth state and database (three states, so three times this per database). */
const RUNS = Number(process.env.TWOFOLD_FUZZ_RUNS ?? 1000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = any;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface ApiRoute {
  method: Method;
  /** With `{param}` placeholders. */
  path: string;
  body: Schema | undefined;
  query: string[];
}

interface PageForm {
  action: string;
  fields: string[];
  token: string | undefined;
}

function apiRoutes(doc: Schema): ApiRoute[] {
  const out: ApiRoute[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
    for (const m of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item[m];
      if (!op) continue;
      const query = ((op.parameters ?? []) as Schema[]).filter((p) => p.in === 'query').map((p) => String(p.name));
      out.push({ method: m.toUpperCase() as Method, path, body: op.requestBody?.content?.['application/json']?.schema, query });
    }
  }
  return out;
}

/** Same-origin links and POST forms of the pages a client can reach from a few starting points. */
async function crawl(c: Client, start: string[]): Promise<{ pages: string[]; forms: PageForm[] }> {
  const seen = new Set<string>();
  const forms = new Map<string, PageForm>();
  const queue = [...start];
  while (queue.length && seen.size < 40) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const r = await c.get(path);
    if (r.status !== 200 || !(r.headers.get('content-type') ?? '').includes('text/html')) continue;
    for (const m of r.text.matchAll(/href="(\/[^"#]*)"/g)) {
      const href = m[1]!.replace(/&amp;/g, '&');
      // Not the pages that act on a GET (logging out, downloading) or are assets.
      if (!href.startsWith('/assets') && !href.startsWith('/api/') && !/logout|\.txt/.test(href) && !seen.has(href)) queue.push(href);
    }
    for (const f of r.text.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)) {
      if (!/method="post"/i.test(f[1]!)) continue;
      const action = /action="([^"]*)"/.exec(f[1]!)?.[1]?.replace(/&amp;/g, '&') || path;
      const fields = [...f[2]!.matchAll(/name="([^"]+)"/g)].map((x) => x[1]!);
      const key = action.split('?')[0]!;
      const token = /name="_csrf" value="([^"]+)"/.exec(f[2]!)?.[1];
      if (!forms.has(key)) forms.set(key, { action, fields: [...new Set(fields)], token });
    }
  }
  return { pages: [...seen], forms: [...forms.values()] };
}

// ---- generators ------------------------------------------------------------------------------

/** encodeURIComponent, also for lone surrogates (sent as the bytes Node would write for them). */
function enc(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return [...Buffer.from(v, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

const oddString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '../../etc/passwd', '%00', '%zz', '<script>', "' OR 1=1 --", '__proto__', 'constructor', '\uFFFF', '\uD800', 'null', 'true', '[]', '{}'),
  fc.constantFrom('99999999999999999999', '-1', '0', '1e308', 'NaN', 'Infinity', '-0', '0x10', '1.5', '9007199254740993', '2026-13-45T99:99:99Z'),
  fc.integer({ min: 3000, max: 9000 }).map((n) => 'x'.repeat(n)),
);
const jsonLeaf = fc.oneof(oddString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const jsonValue = fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 10 }), jsonLeaf, { maxKeys: 4 }));

/** A query string: the route's own parameters with odd values, unknown ones, repeats, raw bytes. */
function queryArb(names: string[]) {
  const key = names.length ? fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })) : fc.string({ maxLength: 12 });
  const pair = fc.tuple(key, oddString).map(([k, v]) => `${enc(k)}=${enc(v)}`);
  const raw = fc.constantFrom('%', '%%', '&&&', '=', 'a=%E0%A4%A', 'a[b]=1', 'a[]=1&a[]=2', '__proto__[x]=1', 'limit=1&limit=2', 'before=99999999999999999999');
  return fc.option(fc.array(fc.oneof(pair, raw), { minLength: 1, maxLength: 5 }).map((ps) => ps.join('&')), { nil: undefined });
}

const contentTypes = fc.constantFrom(
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/octet-stream',
  ';;;',
  'APPLICATION/JSON',
);

/** Extra headers that must never matter: odd accept/language, forged forwarding, junk cookies. */
const extraHeaders = fc.record(
  {
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml', 'image/*;q=0', '', ',,,'),
    'accept-language': fc.constantFrom('zz', '*', 'en;q=abc', ''),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'not an ip', '::1, 10.0.0.1', '999.999.999.999'),
    'x-forwarded-host': fc.constantFrom('evil.example', 'localhost:1'),
    'user-agent': fc.string({ maxLength: 600 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  },
  { requiredKeys: [] },
);

/** A body that no route may accept: bad JSON, the wrong top-level type, an unknown field, too big. */
const badJsonBody = fc.oneof(
  fc.constantFrom('{', '{"a":', '{} {}', '[', 'nul', '"unterminated', '{"__proto__":{"x":1}}', '\u0000', '{"a":1,"a":2,"zz_unknown":1}'),
  // (Not `null` or `{}`: a route without a body takes those as no body.)
  fc.oneof(fc.array(jsonValue, { maxLength: 3 }), oddString, fc.integer(), fc.boolean()).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 4 }).map((o) => JSON.stringify({ ...o, zz_unknown_field: true })),
  fc.constant(JSON.stringify({ zz_unknown_field: 'x'.repeat(70 * 1024) })),
);

interface FuzzRequest {
  method: Method;
  path: string;
  body?: string;
  headers: Record<string, string>;
  /** Where the answer must be a refusal (4xx), not merely not a 5xx. */
  mustRefuse: boolean;
  api: boolean;
}

function apiRequestArb(routes: ApiRoute[]): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...routes).chain((route) =>
    fc
      .record({
        params: fc.array(fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom('..', '%2e%2e', '0', '-1', '99999999999999999999')), {
          minLength: 4,
          maxLength: 4,
        }),
        query: queryArb(route.query),
        headers: extraHeaders,
        // GET routes get odd query strings and headers; every other method a malformed body too.
        body: route.method === 'GET' ? fc.constant(undefined) : fc.oneof(badJsonBody.map((b) => ({ b, type: 'application/json' })), fc.tuple(fc.string({ minLength: 1, maxLength: 50 }), contentTypes).map(([b, type]) => ({ b, type }))),
      })
      .map(({ params, query, headers, body }) => {
        let i = 0;
        const path = route.path.replace(/\{[^}]+\}/g, () => enc(params[i++ % params.length]!) || 'x');
        const h: Record<string, string> = { ...headers };
        if (body) h['content-type'] = body.type;
        return {
          method: route.method,
          path: path + (query !== undefined ? `?${query}` : ''),
          ...(body ? { body: body.b } : {}),
          headers: h,
          mustRefuse: route.method !== 'GET',
          api: true,
        };
      }),
  );
}

/** Forms posted with at least one defect that every form must refuse: the CSRF token or a NUL byte, a wrong type, too big. */
function formRequestArb(forms: PageForm[], csrf: () => string): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...forms).chain((form) =>
    fc
      .record({
        values: fc.array(oddString, { minLength: form.fields.length, maxLength: form.fields.length }),
        defect: fc.constantFrom('no-token', 'wrong-token', 'token-twice', 'nul', 'content-type', 'too-big'),
        query: queryArb(['next', 'expired', 'logged_out']),
        headers: extraHeaders,
        type: contentTypes.filter((t) => t !== 'application/x-www-form-urlencoded'),
      })
      .map(({ values, defect, query, headers, type }) => {
        const p = new URLSearchParams();
        form.fields.forEach((name, i) => {
          if (name !== '_csrf') p.append(name, values[i]!.slice(0, 3000));
        });
        if (defect === 'wrong-token') p.append('_csrf', 'A'.repeat(43));
        if (defect === 'token-twice') p.append('_csrf', csrf()), p.append('_csrf', csrf());
        if (defect === 'nul' || defect === 'content-type' || defect === 'too-big') p.append('_csrf', csrf());
        if (defect === 'nul') p.append(form.fields.find((f) => f !== '_csrf') ?? 'x', 'a\u0000b');
        if (defect === 'too-big') p.append('zz', 'x'.repeat(70 * 1024));
        const sep = form.action.includes('?') ? '&' : '?';
        return {
          method: 'POST' as const,
          path: form.action + (query !== undefined ? `${sep}${query}` : ''),
          body: p.toString(),
          headers: { ...headers, 'content-type': defect === 'content-type' ? type : 'application/x-www-form-urlencoded' },
          mustRefuse: true,
          api: false,
        };
      }),
  );
}

function check(r: Answer, req: FuzzRequest): void {
  let what = `${req.method} ${req.path.slice(0, 200)} (${(req.body ?? '').slice(0, 120)})`;
  assert.ok(r.status < 500, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  if (req.mustRefuse) assert.ok(r.status >= 400, `${what}: not refused (${r.status})`);
  if (req.api && r.status >= 400) {
    what += ` [${req.headers['content-type']}] → ${r.status} ${r.text.slice(0, 200)}`;
    assert.match(r.headers.get('content-type') ?? '', /application\/json/, what);
    const body = JSON.parse(r.text) as { error: { code: string; message: string } };
    assert.deepEqual(Object.keys(body), ['error'], what);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'], what);
    assert.match(body.error.code, /^[a-z][a-z0-9_]*$/, what);
  }
}

for (const { kind, skip } of databaseKinds()) {
  describe(`fuzz: malformed requests change nothing (${kind})`, { skip }, () => {
    // A still clock: nothing legitimately writes (no session touch) between the two snapshots.
    const clock = manualClock();
    let server: TestServer;
    const states: { name: string; client: Client }[] = [];
    before(async () => {
      server = await startTestServer(kind, { clock, publicHost: true });
      const base = server.publicUrl;
      const signedIn = new Client(base);
      assert.equal((await signedIn.post('/api/v1/signup', { email: 'fuzz-user@example.com', password: PASSWORD })).status, 201);
      const owner = new Client(base);
      assert.equal((await owner.post('/api/v1/signup', { email: 'fuzz-2fa@example.com', password: PASSWORD })).status, 201);
      await enableTwoFactor(owner, clock);
      const pending = new Client(base);
      const p = await pending.post('/api/v1/login', { email: 'fuzz-2fa@example.com', password: PASSWORD });
      assert.equal(p.json.status, 'two_factor_required');
      states.push({ name: 'no session', client: new Client(base) }, { name: 'pending login', client: pending }, { name: 'signed in', client: signedIn });
    });
    after(async () => {
      await server?.close();
    });

    for (const state of ['no session', 'pending login', 'signed in']) {
      test(`${RUNS} malformed requests as ${state}: no 5xx, JSON errors, nothing written`, async (t) => {
        const { client } = states.find((s) => s.name === state)!;
        const doc = (await client.get('/api/v1/openapi.json')).json;
        const routes = apiRoutes(doc);
        assert.ok(routes.length >= 20, `${routes.length} API routes`);
        const { forms } = await crawl(client, ['/', '/login', '/signup', '/login/two-factor', '/settings', '/reauthenticate']);
        assert.ok(forms.length >= 1, 'the pages show forms');
        t.diagnostic(`${routes.length} API operations, ${forms.length} forms: ${forms.map((f) => f.action.split('?')[0]).join(' ')}`);
        const csrfToken = forms.map((f) => f.token).find(Boolean) ?? 'none';
        const before = await snapshotTables(server.ctx.db);
        let sent = 0;
        const run = await fc.check(
          fc.asyncProperty(fc.oneof({ arbitrary: apiRequestArb(routes), weight: 3 }, { arbitrary: formRequestArb(forms, () => csrfToken), weight: 1 }), async (req) => {
            const r = await client.request(req.method, req.path, req.body, req.headers);
            sent++;
            check(r, req);
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
        if (run.failed) {
          const e = run.errorInstance as Error | undefined;
          assert.fail(`TWOFOLD_FUZZ_SEED=${SEED} (path ${run.counterexamplePath}): ${String(e?.message ?? e).slice(0, 800)}`);
        }
        assert.equal(sent, RUNS);
        assert.deepEqual(await snapshotTables(server.ctx.db), before, `${state}: the database changed`);
        // The session is still what it was.
        const me = await client.get('/api/v1/me');
        assert.equal(me.status, state === 'signed in' ? 200 : 401);
      });
    }
  });
}
