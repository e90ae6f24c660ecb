import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DAY_MS, HOUR_MS } from '../../src/core/account-recovery.js';
import { manualClock } from '../../src/core/clock.js';
import { sendDueRecoveryNotices } from '../../src/service/account-recovery.js';
import { createAdminToken } from '../../src/service/admin/tokens.js';
import { Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startAnotherNode, startTestServer, type TestServer } from '../helpers/server.js';
import { TestSmtp, type ReceivedMail } from '../helpers/smtp.js';
import { API, assertError, codeAt, logTypes, nextStep, pendingLogin, rowsOf, signupWithTwoFactor, totpLogin, userIdOf, type TwoFactorUser } from '../helpers/totp.js';

const DELAY = 72 * HOUR_MS;

for (const { kind, skip } of databaseKinds()) {
  describe(`account recovery with a waiting period (${kind})`, { skip }, () => {
    const clock = manualClock(Date.UTC(2026, 0, 5, 9));
    let smtp: TestSmtp;
    let server: TestServer;
    before(async () => {
      smtp = await TestSmtp.start();
      server = await startTestServer(kind, { clock, publicHost: true, env: { TWOFOLD_SMTP_URL: smtp.url }, mail: { pollMs: 50 } });
    });
    after(async () => {
      await server?.close();
      await smtp?.down();
    });

    const matching = (email: string, subject: RegExp) => smtp.to(email).filter((x) => subject.test(x.parsed.subject ?? ''));

    /** The newest message to `email` whose subject matches, once there are more than `seen` of them. */
    async function mailTo(email: string, subject: RegExp, seen = 0): Promise<ReceivedMail> {
      for (let i = 0; i < 300; i++) {
        const m = matching(email, subject);
        if (m.length > seen) return m.at(-1)!;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no new mail to ${email} matching ${subject}; got: ${smtp.to(email).map((m) => m.parsed.subject).join(' | ')}`);
    }

    /** A browser-like client for the pages: they answer on PUBLIC_URL's host only. */
    const pageClient = () => new Client(server.publicUrl);

    async function startAndConfirm(user: TwoFactorUser): Promise<{ pending: Client; cancelToken: string }> {
      const pending = await pendingLogin(server, user);
      const seen = { confirm: matching(user.email, /confirm your account recovery/i).length, started: matching(user.email, /account recovery started/i).length };
      const r = await pending.post(`${API}/login/recovery`);
      assert.equal(r.status, 202, r.text);
      assert.equal(r.json.recovery.state, 'awaiting_confirmation');
      const confirmMail = await mailTo(user.email, /confirm your account recovery/i, seen.confirm);
      const opened = await pageClient().get(TestSmtp.link(confirmMail, '/account/recovery/confirm'));
      assert.equal(opened.status, 200, opened.text);
      const started = await mailTo(user.email, /account recovery started/i, seen.started);
      return { pending, cancelToken: TestSmtp.token(started, '/account/recovery/cancel') };
    }

    test('only a pending login can start one', async () => {
      const user = await signupWithTwoFactor(server, clock, 'rec-auth@example.com');
      assertError(await server.client().post(`${API}/login/recovery`), 401, 'no_pending_login');
      assertError(await user.client.post(`${API}/login/recovery`), 401, 'no_pending_login');
    });

    test('start → confirm by the mailed link → reminder → ready → the password login completes it', async () => {
      const user = await signupWithTwoFactor(server, clock, 'rec-main@example.com');
      const userId = await userIdOf(server, user.email);
      await totpLogin(server, clock, user, { trustDevice: true });
      const pending = await pendingLogin(server, user);
      assert.equal((await pending.get(`${API}/me/recovery`)).json.recovery, null);

      const r = await pending.post(`${API}/login/recovery`);
      assert.equal(r.status, 202, r.text);
      assertError(await pending.post(`${API}/login/recovery`), 409, 'recovery_in_progress');
      const confirmMail = await mailTo(user.email, /confirm your account recovery/i);
      const link = TestSmtp.link(confirmMail, '/account/recovery/confirm');
      const token = TestSmtp.token(confirmMail, '/account/recovery/confirm');
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      const stored = await server.ctx.db.selectFrom('account_recovery_tokens').select('token_hash').execute();
      assert.ok(stored.every((s) => s.token_hash !== token), 'only hashes are stored');
      assert.ok(!confirmMail.raw.includes(user.password));

      // Nothing has changed yet: the owner still logs in with a factor.
      assert.equal((await pending.get(`${API}/me/recovery`)).json.recovery.state, 'awaiting_confirmation');
      const confirmedAt = clock.now();
      const page = await pageClient().get(link);
      assert.equal(page.status, 200, page.text);
      assert.match(page.text, /Account recovery scheduled/);
      assert.equal((await pageClient().get(link)).status, 400, 'the link works once');
      const started = await mailTo(user.email, /account recovery started/i);
      assert.ok(TestSmtp.link(started, '/account/recovery/cancel'));
      const state = (await pending.get(`${API}/me/recovery`)).json.recovery;
      assert.equal(state.state, 'waiting');
      assert.equal(Date.parse(state.dueAt), confirmedAt + DELAY);

      // During the wait a password login is still only a pending one.
      clock.advance(DELAY - DAY_MS - 1000);
      assert.equal(await sendDueRecoveryNotices(server.ctx), 0);
      const during = await server.client().post(`${API}/login`, { email: user.email, password: user.password });
      assert.equal(during.json.status, 'two_factor_required');

      clock.advance(1000);
      assert.equal(await sendDueRecoveryNotices(server.ctx), 1, 'the reminder, 24 hours before the end');
      assert.equal(await sendDueRecoveryNotices(server.ctx), 0, 'once');
      await mailTo(user.email, /completes in 24 hours/i);

      clock.advance(DAY_MS);
      assert.equal(await sendDueRecoveryNotices(server.ctx), 1, 'the end notice');
      await mailTo(user.email, /recovery is ready/i);

      const fresh = server.client();
      const done = await fresh.post(`${API}/login`, { email: user.email, password: user.password });
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(done.json, { status: 'ok', accountRecovered: true });
      const me = (await fresh.get(`${API}/me`)).json;
      assert.equal(me.twoFactor.enabled, false);
      assert.deepEqual(me.twoFactor.methods, []);
      assert.equal((await rowsOf(server, 'totp_credentials', userId)).length, 0);
      assert.equal((await rowsOf(server, 'recovery_codes', userId)).length, 0);
      assert.equal((await rowsOf(server, 'trusted_devices', userId)).length, 0);
      assert.equal((await user.client.get(`${API}/me`)).status, 401, 'every earlier session ended');
      assert.equal((await fresh.get(`${API}/me/recovery`)).json.recovery.state, 'completed');
      await mailTo(user.email, /account was recovered/i);
      const types = await logTypes(fresh);
      for (const t of ['account_recovery_requested', 'account_recovery_scheduled', 'account_recovery_completed']) assert.ok(types.includes(t), `${t} in ${types}`);

      // A completed recovery happens once: the next login is an ordinary one.
      const again = await server.client().post(`${API}/login`, { email: user.email, password: user.password });
      assert.deepEqual(again.json, { status: 'ok' });
    });

    test('a second-factor sign-in during the wait cancels it', async () => {
      const user = await signupWithTwoFactor(server, clock, 'rec-signin@example.com');
      const { pending } = await startAndConfirm(user);
      const { client } = await totpLogin(server, clock, user);
      assert.equal((await client.get(`${API}/me/recovery`)).json.recovery.state, 'cancelled');
      assert.equal((await client.get(`${API}/me/recovery`)).json.recovery.cancelReason, 'second_factor_sign_in');
      await mailTo(user.email, /account recovery cancelled/i);
      assert.ok((await logTypes(client)).includes('account_recovery_cancelled'));
      clock.advance(DELAY + 1);
      const later = await server.client().post(`${API}/login`, { email: user.email, password: user.password });
      assert.equal(later.json.status, 'two_factor_required', 'a cancelled recovery never completes');
      void pending;
    });

    test('a sign-in with a recovery code, or a re-authentication with an app code, cancels it too', async () => {
      const byCode = await signupWithTwoFactor(server, clock, 'rec-code@example.com');
      await startAndConfirm(byCode);
      const c = await pendingLogin(server, byCode);
      assert.equal((await c.post(`${API}/login/two-factor`, { method: 'recovery_code', code: byCode.recoveryCodes[0] })).status, 200);
      assert.equal((await c.get(`${API}/me/recovery`)).json.recovery.cancelReason, 'second_factor_sign_in');

      const byReauth = await signupWithTwoFactor(server, clock, 'rec-reauth@example.com');
      await startAndConfirm(byReauth);
      nextStep(clock);
      const r = await byReauth.client.post(`${API}/me/reauthenticate`, { password: byReauth.password, method: 'totp', code: codeAt(byReauth.secret, clock.now()) });
      assert.equal(r.status, 204, r.text);
      assert.equal((await byReauth.client.get(`${API}/me/recovery`)).json.recovery.cancelReason, 'second_factor_sign_in');
      // Without a recovery under way, a re-authentication just succeeds.
      nextStep(clock);
      const again = await byReauth.client.post(`${API}/me/reauthenticate`, { password: byReauth.password, method: 'totp', code: codeAt(byReauth.secret, clock.now()) });
      assert.equal(again.status, 204, again.text);
    });

    test('the cancel link cancels it, once', async () => {
      const user = await signupWithTwoFactor(server, clock, 'rec-link@example.com');
      const { pending, cancelToken } = await startAndConfirm(user);
      const page = await pageClient().get(`/account/recovery/cancel?token=${cancelToken}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /Cancel recovery/);
      assert.equal((await server.client().post(`${API}/recovery/cancel`, { token: cancelToken })).status, 204);
      assertError(await server.client().post(`${API}/recovery/cancel`, { token: cancelToken }), 400, 'invalid_token');
      assert.equal((await pending.get(`${API}/me/recovery`)).json.recovery.state, 'cancelled');
      clock.advance(DELAY + 1);
      assert.equal((await server.client().post(`${API}/login`, { email: user.email, password: user.password })).json.status, 'two_factor_required');
    });

    test('an unconfirmed link dies after 24 hours; bad tokens change nothing', async () => {
      const user = await signupWithTwoFactor(server, clock, 'rec-expire@example.com');
      const pending = await pendingLogin(server, user);
      assert.equal((await pending.post(`${API}/login/recovery`)).status, 202);
      const mail = await mailTo(user.email, /confirm your account recovery/i);
      clock.advance(DAY_MS);
      assert.equal((await pageClient().get(TestSmtp.link(mail, '/account/recovery/confirm'))).status, 400);
      for (const token of ['', 'x', 'A'.repeat(43), TestSmtp.token(mail, '/account/recovery/confirm') + 'A']) {
        assertError(await server.client().post(`${API}/recovery/confirm`, { token }), 400, token === '' || token === 'x' || token.length > 43 ? 'invalid_token' : 'invalid_token');
      }
    });

    test('at most 3 started in 30 days', async () => {
      const user = await signupWithTwoFactor(server, clock, 'rec-limit@example.com');
      for (let i = 0; i < 3; i++) {
        const { cancelToken } = await startAndConfirm(user);
        assert.equal((await server.client().post(`${API}/recovery/cancel`, { token: cancelToken })).status, 204);
      }
      const pending = await pendingLogin(server, user);
      const r = await pending.post(`${API}/login/recovery`);
      assertError(r, 429, 'too_many_recoveries');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
    });

    test('an administrator sees recoveries under way, approves one now and cancels another', async () => {
      const { token } = await createAdminToken(server.ctx, 'recovery-test');
      const admin = server.client({ authorization: `Bearer ${token}` });
      const a = await signupWithTwoFactor(server, clock, 'rec-admin-a@example.com');
      const b = await signupWithTwoFactor(server, clock, 'rec-admin-b@example.com');
      await startAndConfirm(a);
      const bPending = await pendingLogin(server, b);
      assert.equal((await bPending.post(`${API}/login/recovery`)).status, 202);
      const list = await admin.get(`${API}/admin/recoveries`);
      assert.equal(list.status, 200, list.text);
      const mine = (list.json as { email: string; recovery: { state: string } }[]).filter((r) => r.email.startsWith('rec-admin-'));
      assert.deepEqual(mine.map((r) => [r.email, r.recovery.state]).sort(), [
        ['rec-admin-a@example.com', 'waiting'],
        ['rec-admin-b@example.com', 'awaiting_confirmation'],
      ]);
      const aId = await userIdOf(server, a.email);
      const bId = await userIdOf(server, b.email);
      assertError(await admin.post(`${API}/admin/users/${bId}/approve-recovery`), 409, 'recovery_not_confirmed');
      assert.equal((await admin.post(`${API}/admin/users/${aId}/approve-recovery`)).status, 204);
      const done = await server.client().post(`${API}/login`, { email: a.email, password: a.password });
      assert.deepEqual(done.json, { status: 'ok', accountRecovered: true }, 'approved: the next password login completes it');
      assert.equal((await admin.post(`${API}/admin/users/${bId}/cancel-recovery`)).status, 204);
      assertError(await admin.post(`${API}/admin/users/${bId}/cancel-recovery`), 404, 'not_found');
      assert.equal((await bPending.get(`${API}/me/recovery`)).json.recovery.cancelReason, 'administrator');
      const audit = (await admin.get(`${API}/admin/audit-log`)).json as { action: string; targetEmail: string }[];
      assert.ok(audit.some((e) => e.action === 'approve_recovery' && e.targetEmail === a.email));
      assert.ok(audit.some((e) => e.action === 'cancel_recovery' && e.targetEmail === b.email));
      assertError(await server.client().get(`${API}/admin/recoveries`), 401, 'unauthenticated');
    });

    test('racing password logins on two nodes complete it exactly once', async () => {
      const user = await signupWithTwoFactor(server, clock, 'rec-race@example.com');
      await startAndConfirm(user);
      clock.advance(DELAY + 1);
      const other = await startAnotherNode(server, { clock });
      try {
        const answers = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? other : server).client().post(`${API}/login`, { email: user.email, password: user.password })),
        );
        for (const a of answers) assert.equal(a.status, 200, a.text);
        assert.equal(answers.filter((a) => a.json.accountRecovered === true).length, 1);
        const userId = await userIdOf(server, user.email);
        const completed = await server.ctx.db.selectFrom('account_recoveries').select('state').where('user_id', '=', userId).execute();
        assert.deepEqual(completed.map((c) => c.state), ['completed']);
      } finally {
        await other.close();
      }
    });
  });
}
