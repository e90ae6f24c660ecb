import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { Client, type Answer } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, assertError } from '../helpers/totp.js';

const PASSWORD = 'correct horse battery staple';
const WRONG = 'not the password at all';

function assertThrottled(r: Answer, retryAfterS: number, what: string): void {
  assertError(r, 429, 'too_many_attempts', what);
  assert.equal(r.headers.get('retry-after'), String(retryAfterS), `${what}: Retry-After`);
}

/** A page login with the form's CSRF token, as a browser without JavaScript sends it. */
async function pageLogin(c: Client, email: string, password: string): Promise<Answer> {
  const page = await c.get('/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  assert.ok(csrf, 'the login form has a CSRF token');
  const body = new URLSearchParams({ _csrf: csrf, email, password }).toString();
  return c.post('/login', body, { 'content-type': 'application/x-www-form-urlencoded' });
}

for (const { kind, skip } of databaseKinds()) {
  describe(`password guessing per address (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    before(async () => {
      // Pages answer on PUBLIC_URL's host only.
      server = await startTestServer(kind, { clock, publicHost: true });
    });
    after(async () => {
      await server?.close();
    });

    let n = 0;
    async function newAccount(): Promise<string> {
      const email = `throttle-${n++}@example.com`;
      const r = await server.client().post(`${API}/signup`, { email, password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      return email;
    }
    const apiLogin = (c: Client, email: string, password: string) => c.post(`${API}/login`, { email, password });

    test('10 failures, then 1 minute doubling to 1 hour, for a known and an unknown address alike; a success resets', async () => {
      const known = await newAccount();
      const unknown = `nobody-${n++}@example.com`;
      const c = server.client();
      for (const email of [known, unknown]) {
        for (let i = 1; i <= 10; i++) assertError(await apiLogin(c, email, WRONG), 401, 'invalid_credentials', `${email}: failure ${i}`);
        assertThrottled(await apiLogin(c, email, PASSWORD), 60, `${email}: the right password after 10 failures`);
      }
      let waitS = 60;
      for (const next of [120, 240, 480, 960, 1920, 3600, 3600]) {
        clock.advance(waitS * 1000);
        for (const email of [known, unknown]) {
          assertError(await apiLogin(c, email, WRONG), 401, 'invalid_credentials', `${email}: one guess after ${waitS} s`);
          assertThrottled(await apiLogin(c, email, WRONG), next, `${email}: then ${next} s`);
        }
        waitS = next;
      }
      clock.advance(waitS * 1000);
      assert.equal((await apiLogin(c, known, PASSWORD)).status, 200, 'the right password once the wait is over');
      // The success started the count again: ten more failures before a wait.
      // (From another browser: this one is now recognised and would have a budget of its own.)
      const d = server.client();
      for (let i = 1; i <= 10; i++) assertError(await apiLogin(d, known, WRONG), 401, 'invalid_credentials', `after success, failure ${i}`);
      assertThrottled(await apiLogin(d, known, WRONG), 60, 'the 11th again');
      clock.advance(3_600_000);
    });

    test('200 wrong passwords followed by the right one do not sign in', async () => {
      const email = await newAccount();
      const c = server.client();
      for (let i = 0; i < 200; i++) await apiLogin(c, email, `${WRONG} ${i}`);
      const r = await apiLogin(c, email, PASSWORD);
      assertError(r, 429, 'too_many_attempts', 'the right password after 200 guesses');
      assert.equal(c.cookies.has('twofold_session'), false);
      clock.advance(3_600_000);
    });

    test('a burst of 60 concurrent guesses gets exactly 10 checked, for a known and an unknown address', async () => {
      for (const email of [await newAccount(), `burst-${n++}@example.com`]) {
        const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => apiLogin(server.client(), email, `${WRONG} ${i}`)));
        const checked = answers.filter((a) => a.status === 401).length;
        const refused = answers.filter((a) => a.status === 429).length;
        assert.equal(checked, 10, `${email}: ${checked} guesses were checked`);
        assert.equal(refused, 50);
      }
      clock.advance(3_600_000);
    });

    test('the API login, the page login and the re-authentication password check share one count', async () => {
      const email = await newAccount();
      const owner = server.client();
      assert.equal((await apiLogin(owner, email, PASSWORD)).status, 200);
      // A stolen session cookie, without the browser's recognition cookie.
      const thief = server.client();
      thief.cookies.set('twofold_session', owner.cookies.get('twofold_session')!);
      const attacker = server.client();
      for (let i = 0; i < 4; i++) assertError(await apiLogin(attacker, email, WRONG), 401, 'invalid_credentials', `API ${i}`);
      const browser = new Client(server.publicUrl);
      for (let i = 0; i < 3; i++) assert.equal((await pageLogin(browser, email, WRONG)).status, 401, `page ${i}`);
      for (let i = 0; i < 3; i++) assertError(await thief.post(`${API}/me/reauthenticate`, { password: WRONG }), 401, 'invalid_credentials', `reauth ${i}`);
      assertThrottled(await apiLogin(attacker, email, PASSWORD), 60, 'API after 10 mixed failures');
      const page = await pageLogin(browser, email, PASSWORD);
      assert.equal(page.status, 429);
      assert.equal(page.headers.get('retry-after'), '60');
      assert.match(page.text, /Too many wrong passwords/);
      assertThrottled(await thief.post(`${API}/me/reauthenticate`, { password: PASSWORD }), 60, 'reauthenticate');
      clock.advance(3_600_000);
    });

    test('a browser that signed in before keeps a budget of its own while the address is throttled', async () => {
      const email = await newAccount();
      const other = await newAccount();
      const owner = server.client();
      assert.equal((await apiLogin(owner, email, PASSWORD)).status, 200);
      assert.equal((await owner.post(`${API}/logout`)).status, 204);
      assert.ok(owner.cookies.get('twofold_known'), 'the owner’s browser is recognised');
      // The attacker's own account gives them a recognition cookie, for that account only.
      const attacker = server.client();
      assert.equal((await apiLogin(attacker, other, PASSWORD)).status, 200);
      for (let i = 0; i < 10; i++) await apiLogin(attacker, email, WRONG);
      assertThrottled(await apiLogin(attacker, email, PASSWORD), 60, 'the attacker, with a cookie for another account');
      assertThrottled(await apiLogin(server.client(), email, PASSWORD), 60, 'any other browser');

      // The owner's browser: typos and then the right password, all while the address is throttled.
      for (let i = 0; i < 4; i++) assertError(await apiLogin(owner, email, WRONG), 401, 'invalid_credentials', `owner typo ${i}`);
      assert.equal((await apiLogin(owner, email, PASSWORD)).status, 200, 'the owner signs in');
      // That success reset the browser's own count, not the address's.
      assertThrottled(await apiLogin(attacker, email, PASSWORD), 60, 'still throttled for others');
      // The browser's own budget is 5, then it waits too.
      for (let i = 0; i < 5; i++) assertError(await apiLogin(owner, email, WRONG), 401, 'invalid_credentials', `owner failure ${i}`);
      assertThrottled(await apiLogin(owner, email, PASSWORD), 60, 'the browser after its own 5 failures');
      clock.advance(3_600_000);
    });

    test('the recognition cookie is HttpOnly, long-lived and bound to the account', async () => {
      const email = await newAccount();
      const c = server.client();
      const r = await apiLogin(c, email, PASSWORD);
      const line = r.headers.getSetCookie().find((l) => l.startsWith('twofold_known='));
      assert.ok(line, 'set on a successful password step');
      assert.match(line, /HttpOnly/i);
      assert.match(line, /SameSite=Lax/i);
      const maxAge = Number(/Max-Age=(\d+)/i.exec(line)?.[1]);
      assert.ok(maxAge >= 180 * 86_400, `Max-Age ${maxAge}`);
      assert.notEqual(c.cookies.get('twofold_known'), c.cookies.get('twofold_session'));
      // Not set by a wrong password.
      const w = await apiLogin(server.client(), email, WRONG);
      assert.equal(w.headers.getSetCookie().some((l) => l.startsWith('twofold_known=')), false);
    });
  });
}
