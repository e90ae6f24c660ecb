import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { databaseKinds } from '../helpers/databases.js';
import { freePort } from '../helpers/ports.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, assertError, codeAt, nextStep, pendingLogin, signupWithTwoFactor, wrongCode, PASSWORD } from '../helpers/totp.js';

/** `name{labels}` → value, from the Prometheus text format. */
function parse(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    m.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return m;
}

const SERIES = [
  'twofold_http_request_duration_seconds',
  'twofold_logins_total',
  'twofold_second_factor_total',
  'twofold_lockouts_total',
  'twofold_recovery_codes_used_total',
  'twofold_authz_decisions_total',
  'twofold_authz_duration_seconds',
  'twofold_mail_outbox_messages',
];

for (const { kind, skip } of databaseKinds()) {
  describe(`Prometheus metrics on TWOFOLD_METRICS_PORT (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    let metricsUrl: string;
    before(async () => {
      const port = await freePort();
      metricsUrl = `http://127.0.0.1:${port}/metrics`;
      server = await startTestServer(kind, { clock, env: { TWOFOLD_METRICS_PORT: String(port) } });
    });
    after(async () => {
      await server?.close();
    });

    const scrape = async () => {
      const r = await fetch(metricsUrl);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
      return r.text();
    };

    test('every series of SPEC §13, with counts and labels after a scripted login', async () => {
      // Deltas: the registry belongs to the process, which may have served another database before.
      const before = parse(await scrape());
      const delta = (key: string) => (parse(lastText).get(key) ?? 0) - (before.get(key) ?? 0);
      let lastText = '';

      const email = `metrics-${kind}@example.com`;
      const u = await signupWithTwoFactor(server, clock, email);
      // A wrong password, then a correct one that needs the second factor.
      assertError(await server.client().post(`${API}/login`, { email, password: 'not the password at all' }), 401, 'invalid_credentials');
      const c = await pendingLogin(server, u);
      nextStep(clock);
      const code = codeAt(u.secret, clock.now());
      assert.equal((await c.post(`${API}/login/two-factor`, { method: 'totp', code })).status, 200);
      // The same code again in a new login: a replay. Then wrong codes up to the lock, then one refused while locked.
      const d = await pendingLogin(server, u);
      assertError(await d.post(`${API}/login/two-factor`, { method: 'totp', code }), 401, 'invalid_code');
      for (let i = 0; i < 4; i++) assertError(await d.post(`${API}/login/two-factor`, { method: 'totp', code: wrongCode(u.secret, clock.now(), i) }), 401, 'invalid_code');
      assertError(await d.post(`${API}/login/two-factor`, { method: 'totp', code: codeAt(u.secret, clock.now() + 30_000) }), 429, 'too_many_attempts');
      // After the lock, a recovery code.
      clock.advance(61_000);
      const r = await d.post(`${API}/login/two-factor`, { method: 'recovery_code', code: u.recoveryCodes[0]! });
      assert.equal(r.status, 200, r.text);
      // A plain account: a password login straight through.
      const plain = server.client();
      assert.equal((await plain.post(`${API}/signup`, { email: `plain-${kind}@example.com`, password: PASSWORD })).status, 201);
      assert.equal((await server.client().post(`${API}/login`, { email: `plain-${kind}@example.com`, password: PASSWORD })).status, 200);

      lastText = await scrape();
      for (const name of SERIES) assert.match(lastText, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
      assert.match(lastText, /^process_resident_memory_bytes /m, 'default process metrics');
      // The outbox gauge counts by state (signups queue verification mail).
      assert.match(lastText, /^twofold_mail_outbox_messages\{state="(queued|sent|failed)"\} \d+/m);

      assert.equal(delta('twofold_logins_total{result="invalid_credentials"}'), 1);
      assert.equal(delta('twofold_logins_total{result="two_factor_required"}'), 2);
      assert.equal(delta('twofold_logins_total{result="ok"}'), 1);
      assert.equal(delta('twofold_second_factor_total{method="totp",result="ok"}'), 1);
      assert.equal(delta('twofold_second_factor_total{method="totp",result="replayed"}'), 1);
      assert.equal(delta('twofold_second_factor_total{method="totp",result="invalid"}'), 4);
      assert.equal(delta('twofold_second_factor_total{method="totp",result="locked"}'), 1);
      assert.equal(delta('twofold_second_factor_total{method="recovery_code",result="ok"}'), 1);
      assert.equal(delta('twofold_lockouts_total'), 1);
      assert.equal(delta('twofold_recovery_codes_used_total'), 1);
      // Route templates, never URLs; the status as a label.
      assert.equal(delta('twofold_http_request_duration_seconds_count{method="POST",route="/api/v1/login",status="401"}'), 1);
      assert.equal(delta('twofold_http_request_duration_seconds_count{method="POST",route="/api/v1/login/two-factor",status="429"}'), 1);
      assert.ok(delta('twofold_http_request_duration_seconds_count{method="POST",route="/api/v1/login/two-factor",status="200"}') >= 2);
      // No personal value in any label.
      assert.doesNotMatch(lastText, /@example\.com|metrics-|plain-/);
      for (const secret of [u.secret, ...u.recoveryCodes]) assert.ok(!lastText.includes(secret), 'no secret or code in metrics');
    });

    test('forward-auth decisions are counted by decision, with their duration', async () => {
      const before = parse(await scrape());
      // No rules file: default deny, and nobody signed in is sent to log in.
      const r = await server.client().get('/authz/forward-auth', {
        'x-forwarded-method': 'GET',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'app.example.com',
        'x-forwarded-uri': '/',
      });
      assert.equal(r.status, 302, r.text);
      const after = parse(await scrape());
      const key = 'twofold_authz_decisions_total{decision="login"}';
      assert.equal((after.get(key) ?? 0) - (before.get(key) ?? 0), 1);
      assert.equal((after.get('twofold_authz_duration_seconds_count') ?? 0) - (before.get('twofold_authz_duration_seconds_count') ?? 0), 1);
    });

    test('an unknown path is counted under one label, not its URL', async () => {
      await server.client().get('/api/v1/no-such-thing/12345');
      const text = await scrape();
      assert.doesNotMatch(text, /no-such-thing/);
      assert.match(text, /route="unmatched"/);
    });

    test('the main port does not serve /metrics', async () => {
      const r = await server.client().get('/metrics');
      assert.equal(r.status, 404);
      assert.doesNotMatch(r.text, /twofold_/);
    });
  });
}
