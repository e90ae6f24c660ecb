/**
 * The floor: what this machine allows for the same work with nothing else around it. Bare Fastify 5
 * and better-sqlite3 over the same seeded database as Twofold (SQLite):
 * - GET  /me: the session cookie's SHA-256, one primary-key read, a JSON answer;
 * - POST /login/two-factor: a minimal correct TOTP step: one read (session joined to its secret),
 *   decrypt, HMAC over three steps, a guarded update of the last step, and the session swap
 *   (delete the pending one, insert a new one) in one transaction;
 * - POST /login: one read by email and an argon2id verify (libuv's 4 threads, no cap); /login-capped
 *   the same with at most cores − 1 hashes at once, as Twofold runs them;
 * - GET  /me-pg (with FLOOR_PG_URL): GET /me's primary-key read on PostgreSQL instead, through a pg
 *   pool of Twofold's size as a named statement: what this machine allows for the session check
 *   when PostgreSQL shares its cores.
 * Run by bench/run.ts as its own process: FLOOR_DB, PORT, TWOFOLD_SECRET, FLOOR_PG_URL.
 */
import { createHash, randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply } from 'fastify';
import Database from 'better-sqlite3';
import { verify } from '@node-rs/argon2';
import pg from 'pg';
import { createSecretBox } from '../src/core/secret-box.js';
import { verifyTotp } from '../src/core/totp.js';
import { createLimiter } from '../src/core/limiter.js';
import { defaultHashConcurrency } from '../src/core/password.js';

const db = new Database(process.env.FLOOR_DB!);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
// As Twofold's store opens it (src/store/db.ts).
db.pragma('mmap_size = 1073741824');
const box = createSecretBox(Buffer.from(process.env.TWOFOLD_SECRET!, 'base64'));

const sessionById = db.prepare<[string], { user_id: string; created_at: number; last_seen_at: number; pending: number }>(
  'SELECT user_id, created_at, last_seen_at, pending FROM sessions WHERE id = ?',
);
const pendingWithSecret = db.prepare<[string], { user_id: string; created_at: number; secret_enc: string; last_used_step: number | null }>(
  'SELECT s.user_id, s.created_at, t.secret_enc, t.last_used_step FROM sessions s JOIN totp_credentials t ON t.user_id = s.user_id WHERE s.id = ? AND s.pending = 1',
);
const acceptStep = db.prepare('UPDATE totp_credentials SET last_used_step = ? WHERE user_id = ? AND (last_used_step IS NULL OR last_used_step < ?)');
const deleteSession = db.prepare('DELETE FROM sessions WHERE id = ?');
const insertSession = db.prepare('INSERT INTO sessions (id, user_id, created_at, last_seen_at, pending, authenticated_at) VALUES (?, ?, ?, ?, 0, ?)');
const userByEmail = db.prepare<[string], { id: string; password_hash: string }>('SELECT id, password_hash FROM users WHERE email_normalized = ?');
const swap = db.transaction((userId: string, step: number, oldId: string, newId: string, now: number) => {
  if (acceptStep.run(step, userId, step).changes !== 1) return false;
  if (deleteSession.run(oldId).changes !== 1) throw new Error('lost race');
  insertSession.run(newId, userId, now, now, now);
  return true;
});

const sha = (t: string) => createHash('sha256').update(t).digest('base64url');
const cookieOf = (header: string | undefined) => /(?:^|;\s*)twofold_session=([A-Za-z0-9_-]{43})/.exec(header ?? '')?.[1];

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
/** GET /me's answer for the session row either database read (the lookup stays synchronous on SQLite). */
function meAnswer(reply: FastifyReply, s: { user_id: string; pending: number } | undefined) {
  if (!s || s.pending) return reply.code(401).send({ error: { code: 'unauthenticated' } });
  return { id: s.user_id };
}
app.get('/me', async (req, reply) => {
  const token = cookieOf(req.headers.cookie);
  return meAnswer(reply, token ? sessionById.get(sha(token)) : undefined);
});
app.post<{ Body: { code: string } }>('/login/two-factor', async (req, reply) => {
  const token = cookieOf(req.headers.cookie);
  const id = token ? sha(token) : '';
  const p = id ? pendingWithSecret.get(id) : undefined;
  if (!p) return reply.code(401).send({ error: { code: 'no_pending_login' } });
  const now = Date.now();
  const r = verifyTotp(box.decrypt(p.secret_enc, `totp-secret:${p.user_id}`), req.body.code, now, p.last_used_step);
  if (!r.ok) return reply.code(401).send({ error: { code: 'invalid_code' } });
  const fresh = randomBytes(32).toString('base64url');
  if (!swap(p.user_id, r.step, id, sha(fresh), now)) return reply.code(401).send({ error: { code: 'invalid_code' } });
  reply.header('set-cookie', `twofold_session=${fresh}; Path=/; HttpOnly; SameSite=Lax`);
  return { status: 'ok' };
});
app.post<{ Body: { email: string; password: string } }>('/login', async (req, reply) => {
  const u = userByEmail.get(req.body.email.toLowerCase());
  if (!u || !(await verify(u.password_hash, req.body.password))) return reply.code(401).send({ error: { code: 'invalid_credentials' } });
  return { status: 'ok' };
});
// The same under the cap Twofold hashes with (TWOFOLD_HASH_CONCURRENCY, default cores − 1).
const capped = createLimiter(defaultHashConcurrency());
app.post<{ Body: { email: string; password: string } }>('/login-capped', async (req, reply) => {
  const u = userByEmail.get(req.body.email.toLowerCase());
  if (!u || !(await capped.run(() => verify(u.password_hash, req.body.password)))) return reply.code(401).send({ error: { code: 'invalid_credentials' } });
  return { status: 'ok' };
});
if (process.env.FLOOR_PG_URL) {
  const pool = new pg.Pool({ connectionString: process.env.FLOOR_PG_URL, max: 10 });
  const byId = 'SELECT user_id, created_at, last_seen_at, pending FROM sessions WHERE id = $1';
  app.get('/me-pg', async (req, reply) => {
    const token = cookieOf(req.headers.cookie);
    return meAnswer(reply, token ? (await pool.query<{ user_id: string; pending: number }>({ name: 'floor_me', text: byId, values: [sha(token)] })).rows[0] : undefined);
  });
}
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
