/**
 * Kill -9 under load: the real server (`twofold serve`) on SQLite and on PostgreSQL is driven with
 * logins, app-code confirmations and recovery-code logins, killed with SIGKILL while requests are in
 * flight, and started again on the same database. Whatever the clients were told before the kill
 * must still hold: every session confirmed with 200 still works, every recovery code accepted is still
 * used, and every app code accepted is still refused as a replay.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { finished, startCli, tempDir, type RunResult } from '../helpers/cli.js';
import { databaseKinds } from '../helpers/databases.js';
import { freePort } from '../helpers/ports.js';
import { createEmptyPostgres } from '../helpers/postgres.js';
import { API, codeForStep, PASSWORD, stepOf } from '../helpers/totp.js';

const ACCOUNTS = 8;

interface Account {
  email: string;
  secret: string;
  recoveryCodes: string[];
}

async function waitForHealthy(base: string, exited: () => boolean): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < 60_000) {
    if (exited()) throw new Error('the server exited before it was ready');
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('/healthz did not answer within 60 s');
}

class Server {
  child!: ReturnType<typeof startCli>;
  result!: Promise<RunResult>;
  exited = false;
  constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
    readonly base: string,
  ) {}
  async start(): Promise<void> {
    this.exited = false;
    this.child = startCli(['serve'], { cwd: this.dir, env: this.env });
    this.result = finished(this.child);
    void this.result.then(() => (this.exited = true));
    await waitForHealthy(this.base, () => this.exited);
  }
  async kill(signal: NodeJS.Signals): Promise<RunResult> {
    if (!this.exited) this.child.kill(signal);
    return this.result;
  }
}

for (const { kind, skip } of databaseKinds()) {
  describe(`SIGKILL under load loses nothing confirmed (${kind})`, { skip }, () => {
    const dir = tempDir('twofold-crash-');
    let dropPg: (() => Promise<void>) | undefined;
    let server: Server;
    const accounts: Account[] = [];

    before(async () => {
      let databaseUrl = `sqlite:${join(dir.path, 'crash.db')}`;
      if (kind === 'postgres') {
        const pg = await createEmptyPostgres('twofold_crash_');
        databaseUrl = pg.url;
        dropPg = pg.drop;
      }
      const port = await freePort();
      server = new Server(
        dir.path,
        {
          PORT: String(port),
          DATABASE_URL: databaseUrl,
          TWOFOLD_SECRET: randomBytes(32).toString('base64'),
          TWOFOLD_AUTH_RATE_LIMIT: '100000',
          LOG_LEVEL: 'warn',
        },
        `http://127.0.0.1:${port}`,
      );
      await server.start();
      for (let i = 0; i < ACCOUNTS; i++) {
        const c = new Client(server.base);
        const email = `crash-${i}@example.com`;
        assert.equal((await c.post(`${API}/signup`, { email, password: PASSWORD })).status, 201);
        const setup = await c.post(`${API}/me/two-factor/totp/setup`);
        const secret: string = setup.json.secret;
        const confirm = await c.post(`${API}/me/two-factor/totp/confirm`, { code: codeForStep(secret, stepOf(Date.now())) });
        assert.equal(confirm.status, 200, confirm.text);
        accounts.push({ email, secret, recoveryCodes: confirm.json.recoveryCodes });
      }
    });
    after(async () => {
      await server?.kill('SIGKILL');
      await dropPg?.();
      dir.remove();
    });

    test('kill -9 mid-load, restart: confirmed sessions work, used codes stay used, accepted steps stay refused', async (t) => {
      const sessions: string[] = [];
      const usedRecovery: { account: Account; code: string }[] = [];
      const acceptedTotp: { account: Account; code: string }[] = [];
      let confirmed = 0;
      let resolveEnough!: () => void;
      const enough = new Promise<void>((r) => (resolveEnough = r));
      const note = () => {
        if (++confirmed === 10) resolveEnough();
      };

      /** A password login, then one second factor; records what the server confirmed. */
      async function flow(account: Account, factor: { method: 'totp' | 'recovery_code'; code: string }): Promise<void> {
        const c = new Client(server.base);
        const login = await c.post(`${API}/login`, { email: account.email, password: PASSWORD });
        if (login.status !== 200) return;
        const r = await c.post(`${API}/login/two-factor`, factor);
        if (r.status !== 200) return;
        sessions.push(c.cookies.get('twofold_session')!);
        (factor.method === 'totp' ? acceptedTotp : usedRecovery).push({ account, code: factor.code });
        note();
      }

      // Per account: one app code of the next step (the confirm used this one) and three recovery
      // codes, all at once — 32 logins, the second factors confirmed while others are in flight.
      const load = accounts.flatMap((a) => [
        flow(a, { method: 'totp', code: codeForStep(a.secret, stepOf(Date.now()) + 1) }),
        ...a.recoveryCodes.slice(0, 3).map((code) => flow(a, { method: 'recovery_code', code })),
      ]);
      const all = Promise.allSettled(load);
      await Promise.race([enough, all]);
      const killed = await server.kill('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL', 'killed mid-load, not already finished');
      await all;
      assert.ok(confirmed >= 10, `${confirmed} confirmed before the kill`);
      t.diagnostic(`${sessions.length} sessions, ${acceptedTotp.length} app codes and ${usedRecovery.length} recovery codes confirmed of ${load.length} logins before the kill`);

      await server.start();
      for (const token of sessions) {
        const c = new Client(server.base);
        c.cookies.set('twofold_session', token);
        assert.equal((await c.get(`${API}/me`)).status, 200, 'a confirmed session works after the restart');
      }
      // Replays: at most 4 per account, under the lock's 5.
      const replays = [...acceptedTotp.map((x) => ({ ...x, method: 'totp' as const })), ...usedRecovery.map((x) => ({ ...x, method: 'recovery_code' as const }))];
      for (const { account, code, method } of replays) {
        const c = new Client(server.base);
        const login = await c.post(`${API}/login`, { email: account.email, password: PASSWORD });
        assert.equal(login.json.status, 'two_factor_required', login.text);
        const r = await c.post(`${API}/login/two-factor`, { method, code });
        assert.equal(r.status, 401, `${method} ${code} accepted again after the restart: ${r.text}`);
        assert.equal(r.json.error.code, 'invalid_code');
      }
    });
  });
}
