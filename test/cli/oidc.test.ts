import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { runCli, tempDir } from '../helpers/cli.js';

/** `twofold clients add|list|remove` and `twofold oidc rotate-keys` (SPEC §11) on a SQLite file. */
describe('twofold clients and oidc commands', { concurrency: 1 }, () => {
  const dir = tempDir();
  const env = { DATABASE_URL: `sqlite:${join(dir.path, 'db.sqlite')}` };
  after(() => dir.remove());
  const run = (...args: string[]) => runCli(args, { cwd: dir.path, env });
  let confidential = '';
  let secret = '';

  test('clients add prints the id and, for a confidential client, the secret once; it is stored sealed', async () => {
    const r = await run('clients', 'add', '--name', 'Grafana', '--redirect-uri', 'https://grafana.example/login/generic_oauth', '--redirect-uri', 'https://grafana.example/other', '--post-logout-redirect-uri', 'https://grafana.example/');
    assert.equal(r.code, 0, r.stderr);
    confidential = /client id: ([0-9a-f]+)/.exec(r.stdout)![1]!;
    secret = /client secret \(shown only now\): (\S+)/.exec(r.stdout)![1]!;
    assert.ok(secret.length >= 43);
    const db = new SQLite(join(dir.path, 'db.sqlite'), { readonly: true });
    try {
      const row = db.prepare('select * from oidc_clients where id = ?').get(confidential) as Record<string, unknown>;
      assert.ok(row, 'stored');
      assert.ok(!JSON.stringify(row).includes(secret), 'the secret is not stored in the clear');
      assert.match(String(row.secret_enc), /^v1\./);
    } finally {
      db.close();
    }
  });

  test('a public client gets no secret; flags show in the list', async () => {
    const r = await run('clients', 'add', '--name', 'SPA', '--redirect-uri', 'http://localhost:5173/cb', '--public', '--first-party', '--require-2fa');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /secret \(/);
    const id = /client id: ([0-9a-f]+)/.exec(r.stdout)![1]!;
    const list = await run('clients', 'list');
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines.some((l) => l.startsWith(`${confidential}\tGrafana\tconfidential\t`)), list.stdout);
    assert.ok(lines.some((l) => l.startsWith(`${id}\tSPA\tpublic,first-party,require-2fa\t`)), list.stdout);
    assert.ok(!list.stdout.includes(secret), 'list never shows a secret');
  });

  test('bad input is refused and registers nothing', async () => {
    for (const args of [
      ['clients', 'add', '--name', 'X'],
      ['clients', 'add', '--redirect-uri', 'https://a.example/cb'],
      ['clients', 'add', '--name', 'X', '--redirect-uri', 'not a url'],
      ['clients', 'add', '--name', 'X', '--redirect-uri', 'https://a.example/cb#frag'],
      ['clients', 'add', '--name', 'X', '--redirect-uri', 'javascript:alert(1)'],
      ['clients', 'add', '--name', 'X', '--redirect-uri', 'https://a.example/cb', '--unknown'],
      ['clients', 'remove'],
      ['clients', 'frobnicate'],
      ['oidc', 'rotate'],
    ]) {
      const r = await run(...args);
      assert.notEqual(r.code, 0, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, /twofold: /);
    }
    assert.equal((await run('clients', 'list')).stdout.trim().split('\n').length, 2);
    const gone = await run('clients', 'remove', 'no-such-client');
    assert.equal(gone.code, 1);
  });

  test('oidc rotate-keys makes new RS256 and ES256 keys and keeps the old ones published', async () => {
    const r = await run('oidc', 'rotate-keys');
    assert.equal(r.code, 0, r.stderr);
    const again = await run('oidc', 'rotate-keys');
    assert.equal(again.code, 0, again.stderr);
    const db = new SQLite(join(dir.path, 'db.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('select alg, active_alg, publish_until, private_jwk_enc from oidc_signing_keys').all() as Record<string, unknown>[];
      assert.equal(rows.length, 6);
      assert.deepEqual(rows.filter((k) => k.active_alg).map((k) => k.alg).sort(), ['ES256', 'RS256']);
      assert.ok(rows.filter((k) => !k.active_alg).every((k) => Number(k.publish_until) > Date.now()));
      assert.ok(rows.every((k) => String(k.private_jwk_enc).startsWith('v1.')), 'sealed');
    } finally {
      db.close();
    }
  });

  test('clients remove deletes the client', async () => {
    const r = await run('clients', 'remove', confidential);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!(await run('clients', 'list')).stdout.includes(confidential));
  });
});
