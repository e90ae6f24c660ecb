import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { runCli, tempDir } from '../helpers/cli.js';
import { TestSmtp } from '../helpers/smtp.js';

describe('twofold mail test / mail status', () => {
  let dir: { path: string; remove(): void };
  let smtp: TestSmtp;
  before(async () => {
    dir = tempDir();
    smtp = await TestSmtp.start();
  });
  after(async () => {
    await smtp?.down();
    dir?.remove();
  });

  test('without TWOFOLD_SMTP_URL the test message is an .eml file (mode 0600) in TWOFOLD_MAIL_DIR', async () => {
    const r = await runCli(['mail', 'test', '--to', 'ops@example.com'], { cwd: dir.path, env: { TWOFOLD_MAIL_DIR: 'out' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sent a test message to ops@example.com via files in .*out/);
    const files = readdirSync(join(dir.path, 'out')).filter((f) => f.endsWith('.eml'));
    assert.equal(files.length, 1);
    const file = join(dir.path, 'out', files[0]!);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const parsed = await simpleParser(readFileSync(file));
    assert.equal(parsed.subject, 'Test message from Twofold');
    assert.ok(parsed.text && parsed.html);
  });

  test('over SMTP; status counts queued, sent and failed', async () => {
    const env = { TWOFOLD_SMTP_URL: smtp.url };
    const r = await runCli(['mail', 'test', '--to', 'ops@example.com'], { cwd: dir.path, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(smtp.to('ops@example.com').length, 1);
    await smtp.down();
    const down = await runCli(['mail', 'test', '--to', 'ops2@example.com'], { cwd: dir.path, env });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /not sent via smtp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*stays queued/);
    const s = await runCli(['mail', 'status'], { cwd: dir.path, env });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^queued\t1\nsent\t2\nfailed\t0\nvia\tsmtp:\/\/127\.0\.0\.1:\d+\n$/);
    assert.equal((await runCli(['mail', 'test'], { cwd: dir.path, env })).code, 1);
    assert.equal((await runCli(['mail', 'nope'], { cwd: dir.path, env })).code, 2);
  });
});
