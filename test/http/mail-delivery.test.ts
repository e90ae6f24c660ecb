import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { inTransaction } from '../../src/service/transaction.js';
import { enqueueMail } from '../../src/service/mail/outbox.js';
import { listOutbox } from '../../src/store/outbox.js';
import { assertJsonError } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startAnotherNode, startTestServer, type TestServer } from '../helpers/server.js';
import { TestSmtp } from '../helpers/smtp.js';

const PASSWORD = 'correct horse battery';
const API = '/api/v1';

for (const { kind, skip } of databaseKinds()) {
  describe(`mail: outbox, delivery over SMTP, email verification (${kind})`, { skip }, () => {
    let smtp: TestSmtp;
    let server: TestServer;
    before(async () => {
      smtp = await TestSmtp.start();
      server = await startTestServer(kind, { env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_ISSUER: 'Acme Login' }, mail: { pollMs: 200 } });
    });
    after(async () => {
      await server?.close();
      await smtp?.down();
    });

    test('signup sends "Confirm your email address" (text + HTML, issuer as sender name); the link verifies once', async (t) => {
      const c = server.client();
      const before = smtp.received.length;
      const r = await c.post(`${API}/signup`, { email: 'ada@example.com', password: PASSWORD });
      assert.equal(r.status, 201, r.text);
      assert.equal((await c.get(`${API}/me`)).json.emailVerified, false);
      await smtp.waitFor(before + 1);
      const [mail] = smtp.to('ada@example.com');
      assert.ok(mail);
      assert.equal(mail.parsed.subject, 'Confirm your email address');
      assert.equal(mail.parsed.from?.value[0]?.name, 'Acme Login');
      assert.ok(mail.parsed.text && mail.parsed.html, 'a text and an HTML part');
      assert.ok(!mail.raw.includes(PASSWORD));
      const token = TestSmtp.token(mail, '/email/verify');
      assert.match(token, /^[A-Za-z0-9_-]{43}$/, '256-bit token');
      const html = String(mail.parsed.html);
      assert.ok(html.includes('/email/verify?token='), html.slice(0, 3000));

      // Stored hashed: the token itself is nowhere in the database.
      const rows = await server.ctx.db.selectFrom('email_tokens').select('token_hash').execute();
      assert.ok(rows.every((row) => row.token_hash !== token));
      const outbox = await listOutbox(server.ctx.db);
      const sealed = await server.ctx.db.selectFrom('mail_outbox').select('content_enc').execute();
      assert.ok(sealed.every((s) => s.content_enc === null || !s.content_enc.includes(token)));
      assert.ok(outbox.some((m) => m.kind === 'verify_email'));
      const arrived = smtp.to('ada@example.com')[0]!.at;
      const queuedAt = outbox.find((m) => m.kind === 'verify_email')!.createdAt;
      t.diagnostic(`verification message: ${arrived - queuedAt} ms from outbox insert to arrival at the SMTP server`);

      // Opening it, not signed in (a fresh client), verifies the address.
      const other = server.client();
      const v = await other.post(`${API}/email/verify`, { token });
      assert.equal(v.status, 200, v.text);
      assert.deepEqual(v.json, { status: 'verified', email: 'ada@example.com' });
      assert.equal((await c.get(`${API}/me`)).json.emailVerified, true);
      assertJsonError(await other.post(`${API}/email/verify`, { token }), 'used twice', 400);
      assert.equal((await other.post(`${API}/email/verify`, { token })).json.error.code, 'invalid_token');

      const again = await c.post(`${API}/me/email/verification`);
      assert.equal(again.status, 409, again.text);
      assert.equal(again.json.error.code, 'already_verified');
    });

    test('resend: at most once a minute; unknown and malformed tokens change nothing', async () => {
      const c = server.client();
      await c.post(`${API}/signup`, { email: 'resend@example.com', password: PASSWORD });
      const r = await c.post(`${API}/me/email/verification`);
      assertJsonError(r, 'resend within a minute of signup', 429);
      assert.ok(Number(r.headers.get('retry-after')) > 0);
      assertJsonError(await server.client().post(`${API}/me/email/verification`), 'not signed in', 401);
      for (const token of ['x', 'A'.repeat(43), 'A'.repeat(128)]) {
        const v = await server.client().post(`${API}/email/verify`, { token });
        assertJsonError(v, `token ${token.slice(0, 5)}`, 400);
      }
    });
  });

  describe(`mail: the mail server down and back, retries with backoff (${kind})`, { skip }, () => {
    const clock = manualClock(Date.now());
    let smtp: TestSmtp;
    let server: TestServer;
    before(async () => {
      smtp = await TestSmtp.start();
      await smtp.down();
      server = await startTestServer(kind, { clock, env: { TWOFOLD_SMTP_URL: smtp.url }, mail: { autoStart: false } });
    });
    after(async () => {
      await server?.close();
      await smtp?.down();
    });

    test('nothing is lost or blocked while the server is down; retries at 1 min, 2 min …; delivered once it is back', async () => {
      const c = server.client();
      const r = await c.post(`${API}/signup`, { email: 'down@example.com', password: PASSWORD });
      assert.equal(r.status, 201, 'the request does not wait for mail');
      const worker = server.mail!;
      await worker.runOnce();
      let [m] = await listOutbox(server.ctx.db);
      assert.equal(m!.state, 'queued');
      assert.equal(m!.attempts, 1);
      assert.equal(m!.nextAttemptAt, clock.now() + 60_000);
      assert.ok(m!.lastError);

      // Not due yet: nothing is tried.
      assert.equal(await worker.runOnce(), 0);
      clock.advance(60_000);
      assert.equal(await worker.runOnce(), 1);
      [m] = await listOutbox(server.ctx.db);
      assert.equal(m!.attempts, 2);
      assert.equal(m!.nextAttemptAt, clock.now() + 120_000);

      await smtp.up();
      clock.advance(120_000);
      assert.equal(await worker.runOnce(), 1);
      [m] = await listOutbox(server.ctx.db);
      assert.equal(m!.state, 'sent');
      assert.equal(smtp.to('down@example.com').length, 1);
      const sealed = await server.ctx.db.selectFrom('mail_outbox').select('content_enc').executeTakeFirstOrThrow();
      assert.equal(sealed.content_enc, null, 'the content (with its link) is dropped once sent');
    });

    test('after 3 days of failures a message is marked failed; status counts it', async () => {
      await smtp.down();
      const id = await inTransaction(server.ctx, (t) =>
        enqueueMail(t, { userId: null, kind: 'test', to: 'never@example.com', content: { subject: 's', text: 't', html: '<p>h</p>' } }),
      );
      const worker = server.mail!;
      let tries = 0;
      for (;;) {
        const row = (await listOutbox(server.ctx.db)).find((m) => m.id === id)!;
        if (row.state !== 'queued') break;
        clock.set(row.nextAttemptAt);
        tries += await worker.runOnce();
        assert.ok(tries < 200);
      }
      const row = (await listOutbox(server.ctx.db)).find((m) => m.id === id)!;
      assert.equal(row.state, 'failed');
      // 1+2+4+8+16+32 min, then hourly: 3 days hold about 76 attempts.
      assert.ok(row.attempts > 60 && row.attempts < 80, String(row.attempts));
      assert.ok(clock.now() - row.createdAt <= 3 * 24 * 3600_000);
    });
  });

  // Several nodes share PostgreSQL (SPEC §1); two SQLite connections in one test process would
  // block each other's event loop on the file lock, which no deployment does.
  describe(`mail: two nodes over one database send each message exactly once (${kind})`, { skip: kind === 'sqlite' ? 'several nodes run over PostgreSQL' : skip }, () => {
    let smtp: TestSmtp;
    let first: TestServer;
    let second: TestServer;
    before(async () => {
      smtp = await TestSmtp.start();
      first = await startTestServer(kind, { env: { TWOFOLD_SMTP_URL: smtp.url }, mail: { pollMs: 20, batch: 5 } });
      second = await startAnotherNode(first, { mail: { pollMs: 20, batch: 5 } });
    });
    after(async () => {
      await second?.close();
      await first?.close();
      await smtp?.down();
    });

    test('60 messages queued on both nodes: 60 arrive, no Message-ID twice', async (t) => {
      const queued = Date.now();
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          inTransaction(i % 2 ? second.ctx : first.ctx, (tx) =>
            enqueueMail(tx, { userId: null, kind: 'test', to: `n${i}@example.com`, content: { subject: `m${i}`, text: 't', html: '<p>h</p>' } }),
          ),
        ),
      );
      await smtp.waitFor(60, 30_000);
      t.diagnostic(`60 messages over two nodes delivered ${Date.now() - queued} ms after queuing began`);
      // Both workers have looked again after the last send: nothing more may come.
      await first.mail!.runOnce();
      await second.mail!.runOnce();
      const ids = smtp.received.map((m) => m.parsed.messageId);
      assert.equal(ids.length, 60);
      assert.equal(new Set(ids).size, 60);
      const rows = await listOutbox(first.ctx.db);
      assert.equal(rows.filter((r) => r.state === 'sent').length, 60);
    });

    test('a crashed node: its lease runs out and the other node sends the message', async () => {
      // Play a node that claimed it and died: a lease that has already run out.
      await inTransaction(first.ctx, async (tx) => {
        const id = await enqueueMail(tx, { userId: null, kind: 'test', to: 'lease@example.com', content: { subject: 'lease', text: 't', html: '<p>h</p>' } });
        await tx.db.updateTable('mail_outbox').set({ lease_owner: 'dead-node', lease_until: Date.now() - 1 }).where('id', '=', id).execute();
      });
      await second.mail!.runOnce();
      await smtp.waitFor(61);
      assert.equal(smtp.to('lease@example.com').length, 1);
    });
  });
}
