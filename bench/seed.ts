/**
 * Bulk seeding of a migrated Twofold database for the bench, straight into the tables (not through
 * the API): N accounts with one signed-in session each; TOTP accounts with a sealed secret, ten
 * recovery codes and a sign-in the day before from the load generator's browser (it sends no
 * User-Agent); pending logins made just before a TOTP run, whose browser carries the recognition
 * cookie its earlier sign-in left (knownDeviceOf), so a TOTP login queues no new-device mail. Tokens
 * are derived from their index, so a load generator can be handed any of them without a list of a
 * million.
 */
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { createSecretBox, type SecretBox } from '../src/core/secret-box.js';
import { knownDeviceTokenWith } from '../src/service/password-throttle.js';

export const BENCH_PASSWORD = 'bench password that is long enough';
/** Every bench account shares one TOTP secret, so one code serves every pending login of a run. */
export const BENCH_TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

const b64url = (b: Buffer) => b.toString('base64url');
export const tokenOf = (kind: 's' | 'p', i: number) => b64url(createHash('sha256').update(`bench-${kind}-${i}`).digest());
export const sessionIdOf = (token: string) => b64url(createHash('sha256').update(token).digest());
export const userIdOf = (i: number) => `u${i}`;
/** The device-recognition cookie a browser keeps from signing in to account i (its nonce derived from i). */
export const knownDeviceOf = (box: SecretBox, i: number): string =>
  knownDeviceTokenWith(box, userIdOf(i), createHash('sha256').update(`bench-k-${i}`).digest('base64url').slice(0, 22));
export const emailOf = (i: number) => `user${i}@bench.example`;

export interface SeedPlan {
  accounts: number;
  /** Accounts 0 … totp-1 have an authenticator app and recovery codes. */
  totp: number;
  passwordHash: string;
  secret: Buffer;
}

export function seedSqlite(db: BetterSqlite3.Database, plan: SeedPlan): void {
  const box = createSecretBox(plan.secret);
  const now = Date.now();
  const user = db.prepare('INSERT INTO users (id, email, email_normalized, password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)');
  const session = db.prepare('INSERT INTO sessions (id, user_id, created_at, last_seen_at, pending, authenticated_at) VALUES (?, ?, ?, ?, 0, ?)');
  const totp = db.prepare('INSERT INTO totp_credentials (user_id, secret_enc, confirmed_at, last_used_step, created_at) VALUES (?, ?, ?, NULL, ?)');
  const code = db.prepare('INSERT INTO recovery_codes (id, user_id, position, code_mac, code_enc, used_at, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?)');
  const signedIn = db.prepare("INSERT INTO security_events (id, user_id, type, at, ip, user_agent, detail) VALUES (?, ?, 'login', ?, '127.0.0.1', NULL, '{}')");
  db.pragma('synchronous = OFF');
  db.transaction(() => {
    for (let i = 0; i < plan.accounts; i++) {
      const id = userIdOf(i);
      user.run(id, emailOf(i), emailOf(i), plan.passwordHash, now, now);
      session.run(sessionIdOf(tokenOf('s', i)), id, now, now, now);
      if (i < plan.totp) {
        totp.run(id, box.encrypt(BENCH_TOTP_SECRET, `totp-secret:${id}`), now, now);
        for (let k = 0; k < 10; k++) code.run(`${id}c${k}`, id, k, `mac-${id}-${k}`, k < 3 ? now : null, now);
        signedIn.run(`seed-${id}`, id, now - 86_400_000);
      }
    }
  })();
  db.pragma('synchronous = NORMAL');
  db.exec('ANALYZE');
  // As Twofold does at start (store/db.ts): the floor runs on the same database before it.
  db.exec('DELETE FROM sqlite_stat4');
}

const B64URL = (expr: string) => `rtrim(translate(encode(${expr}, 'base64'), '+/', '-_'), '=')`;

export async function seedPostgres(client: pg.Client, plan: SeedPlan): Promise<void> {
  const box = createSecretBox(plan.secret);
  const now = Date.now();
  await client.query(
    `INSERT INTO users (id, email, email_normalized, password_hash, created_at, password_changed_at)
     SELECT 'u' || i, 'user' || i || '@bench.example', 'user' || i || '@bench.example', $1, $2, $2 FROM generate_series(0, $3 - 1) AS i`,
    [plan.passwordHash, now, plan.accounts],
  );
  const token = B64URL(`sha256(convert_to('bench-s-' || i, 'UTF8'))`);
  await client.query(
    `INSERT INTO sessions (id, user_id, created_at, last_seen_at, pending, authenticated_at)
     SELECT ${B64URL(`sha256(convert_to(${token}, 'UTF8'))`)}, 'u' || i, $1, $1, 0, $1 FROM generate_series(0, $2 - 1) AS i`,
    [now, plan.accounts],
  );
  for (let start = 0; start < plan.totp; start += 10_000) {
    const ids: string[] = [];
    const secrets: string[] = [];
    for (let i = start; i < Math.min(plan.totp, start + 10_000); i++) {
      ids.push(userIdOf(i));
      secrets.push(box.encrypt(BENCH_TOTP_SECRET, `totp-secret:${userIdOf(i)}`));
    }
    await client.query(
      `INSERT INTO totp_credentials (user_id, secret_enc, confirmed_at, last_used_step, created_at) SELECT u, s, $3, NULL, $3 FROM unnest($1::text[], $2::text[]) AS t(u, s)`,
      [ids, secrets, now],
    );
  }
  await client.query(
    `INSERT INTO recovery_codes (id, user_id, position, code_mac, code_enc, used_at, created_at)
     SELECT 'u' || i || 'c' || k, 'u' || i, k, 'mac-u' || i || '-' || k, NULL, CASE WHEN k < 3 THEN $1::bigint END, $1 FROM generate_series(0, $2 - 1) AS i, generate_series(0, 9) AS k`,
    [now, plan.totp],
  );
  await client.query(
    `INSERT INTO security_events (id, user_id, type, at, ip, user_agent, detail)
     SELECT 'seed-u' || i, 'u' || i, 'login', $1, '127.0.0.1', NULL, '{}' FROM generate_series(0, $2 - 1) AS i`,
    [now - 86_400_000, plan.totp],
  );
  // A vacuum now, not autovacuum during the measurements that follow; and a checkpoint, so the
  // seed's dirty pages are not written out while they run.
  await client.query('VACUUM ANALYZE');
  await client.query('CHECKPOINT');
}

/** Pending logins (second factor awaited) for accounts from … to-1, created now (they live 5 minutes). */
export function pendingSqlite(db: BetterSqlite3.Database, from: number, to: number): void {
  const now = Date.now();
  const ins = db.prepare('INSERT OR REPLACE INTO sessions (id, user_id, created_at, last_seen_at, pending, authenticated_at) VALUES (?, ?, ?, ?, 1, NULL)');
  db.transaction(() => {
    for (let i = from; i < to; i++) ins.run(sessionIdOf(tokenOf('p', i)), userIdOf(i), now, now);
  })();
}

export async function pendingPostgres(client: pg.Client, from: number, to: number): Promise<void> {
  const now = Date.now();
  const token = B64URL(`sha256(convert_to('bench-p-' || i, 'UTF8'))`);
  await client.query(
    `INSERT INTO sessions (id, user_id, created_at, last_seen_at, pending, authenticated_at)
     SELECT ${B64URL(`sha256(convert_to(${token}, 'UTF8'))`)}, 'u' || i, $1, $1, 1, NULL FROM generate_series($2::int, $3::int - 1) AS i
     ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, last_seen_at = excluded.last_seen_at, pending = 1`,
    [now, from, to],
  );
}

/**
 * Sets when these sessions were last seen. `now` for people active within the touch interval (the
 * session check then only reads), a few minutes ago for each one's first request in a while (the
 * check also writes last_seen_at).
 */
export function lastSeenSqlite(db: BetterSqlite3.Database, tokens: string[], at: number): void {
  const set = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id = ?');
  db.transaction(() => {
    for (const t of tokens) set.run(at, sessionIdOf(t));
  })();
}

export async function lastSeenPostgres(client: pg.Client, tokens: string[], at: number): Promise<void> {
  await client.query('UPDATE sessions SET last_seen_at = $1 WHERE id = ANY($2::text[])', [at, tokens.map(sessionIdOf)]);
}
