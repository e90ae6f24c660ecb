import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { Client } from '../helpers/client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, codeAt, nextStep, PASSWORD } from '../helpers/totp.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

describe('app setup pages need a fresh authentication, and come back after it', () => {
  const clock = manualClock();
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { clock, publicHost: true });
  });
  after(async () => {
    await server?.close();
  });

  test('a stale session is sent to "Confirm it’s you", then to the setup page; confirming leaves it no fresher', async () => {
    const c = new Client(server.publicUrl);
    assert.equal((await c.post(`${API}/signup`, { email: 'pages-fresh@example.com', password: PASSWORD })).status, 201);
    clock.advance(11 * 60_000);
    const csrf = csrfOf((await c.get('/settings')).text);

    const start = await c.post('/settings/two-factor/setup', form({ _csrf: csrf }), FORM);
    assert.equal(start.status, 303);
    assert.equal(start.headers.get('location'), '/reauthenticate?next=%2Fsettings%2Ftwo-factor%2Fsetup');
    const direct = await c.get('/settings/two-factor/setup');
    assert.equal(direct.headers.get('location'), '/reauthenticate?next=%2Fsettings%2Ftwo-factor%2Fsetup');
    assert.equal((await server.ctx.db.selectFrom('totp_credentials').selectAll().execute()).length, 0, 'nothing was started');

    const re = await c.post('/reauthenticate?next=%2Fsettings%2Ftwo-factor%2Fsetup', form({ _csrf: csrf, password: PASSWORD }), FORM);
    assert.equal(re.status, 303, re.text);
    assert.equal(re.headers.get('location'), '/settings/two-factor/setup');
    const page = await c.get('/settings/two-factor/setup');
    assert.equal(page.status, 200);
    const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(page.text)![1]!.replace(/ /g, '');
    assert.equal(secret.length, 32);

    // The scan took a while: the session went stale again before the code was typed.
    clock.advance(10 * 60_000);
    nextStep(clock);
    const late = await c.post('/settings/two-factor/confirm', form({ _csrf: csrf, code: codeAt(secret, clock.now()) }), FORM);
    assert.equal(late.status, 303);
    assert.equal(late.headers.get('location'), '/reauthenticate?next=%2Fsettings%2Ftwo-factor%2Fsetup');
    assert.equal((await c.get(`${API}/me`)).json.twoFactor.enabled, false);

    assert.equal((await c.post('/reauthenticate?next=%2Fsettings%2Ftwo-factor%2Fsetup', form({ _csrf: csrf, password: PASSWORD }), FORM)).status, 303);
    const samePage = await c.get('/settings/two-factor/setup');
    assert.ok(samePage.text.includes(/id="totp-secret">([A-Z2-7 ]+)</.exec(page.text)![1]!), 'the same secret as before');
    clock.advance(9 * 60_000);
    nextStep(clock);
    const done = await c.post('/settings/two-factor/confirm', form({ _csrf: csrf, code: codeAt(secret, clock.now()) }), FORM);
    assert.equal(done.status, 200, done.text.slice(0, 300));
    assert.match(done.text, /Save your recovery codes/);
    clock.advance(2 * 60_000);
    assert.equal((await c.get(`${API}/me/two-factor/recovery-codes`)).status, 403, 'the new app did not make the session fresher');
  });
});
