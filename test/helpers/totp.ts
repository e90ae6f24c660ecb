/**
 * Helpers for the two-factor tests: codes computed outside the project's own TOTP module
 * (oathtool for the end-to-end and browser tests, the otpauth library elsewhere), and the common
 * flows of the API tests (sign up, turn 2FA on, log in with a second factor).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before } from 'node:test';
import { HOTP, Secret } from 'otpauth';
import type { Clock } from '../../src/core/clock.js';
import type { Answer, Client } from './client.js';
import type { DbKind } from './databases.js';
import { startTestServer, type TestServer } from './server.js';

export const STEP_MS = 30_000;
export const PASSWORD = 'correct horse battery';
export const API = '/api/v1';

export const stepOf = (ms: number): number => Math.floor(ms / STEP_MS);

/** The RFC 6238 code of one 30-second step, computed by the otpauth library (not src/core/totp.ts). */
export function codeForStep(secret: string, step: number): string {
  return HOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, counter: step });
}

export const codeAt = (secret: string, ms: number): string => codeForStep(secret, stepOf(ms));

/** A well-formed 6-digit code that matches none of the steps the server accepts at `ms`. */
export function wrongCode(secret: string, ms: number, n = 0): string {
  const s = stepOf(ms);
  const near = new Set([-3, -2, -1, 0, 1, 2, 3].map((d) => codeForStep(secret, s + d)));
  let found = 0;
  for (let i = 0; ; i++) {
    const c = String((i * 7919 + 13) % 1_000_000).padStart(6, '0');
    if (!near.has(c) && found++ === n) return c;
  }
}

/** `oathtool --totp -b SECRET`, at the real time or at `atMs`. */
export function oathtool(secret: string, atMs?: number): string {
  const args = ['--totp', '-b', ...(atMs === undefined ? [] : ['--now', `@${Math.floor(atMs / 1000)}`]), secret];
  const out = execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
  assert.match(out, /^[0-9]{6}$/, `oathtool printed ${JSON.stringify(out)}`);
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An authenticator app made of oathtool, on the real clock. The server accepts the current step and
 * one either side, and never a step at or before the last one accepted; so each code is for the step
 * after the last used (at least the current one), which stays valid even if a step boundary passes
 * before the server checks it. When that step is more than one ahead, wait until it is not.
 */
export class Authenticator {
  private last = -Infinity;
  constructor(readonly secret: string) {}

  codeAt(step: number): string {
    return oathtool(this.secret, step * STEP_MS);
  }

  async next(): Promise<string> {
    const want = Math.max(stepOf(Date.now()), this.last + 1);
    while (want > stepOf(Date.now()) + 1) await sleep(250);
    this.last = want;
    return this.codeAt(want);
  }

  /** A 6-digit code that is none of the codes the server would accept right now. */
  wrongCode(): string {
    const now = stepOf(Date.now());
    const valid = new Set([-2, -1, 0, 1, 2].map((d) => this.codeAt(now + d)));
    return ['000000', '123456', '999999'].find((c) => !valid.has(c))!;
  }
}

/** The base32 secret of an otpauth:// URI, read as an authenticator app reads it. */
export function secretFromUri(uri: string): string {
  const u = new URL(uri);
  assert.equal(u.protocol, 'otpauth:');
  const secret = u.searchParams.get('secret');
  assert.ok(secret, `no secret in ${uri}`);
  return secret;
}

export interface TwoFactorUser {
  email: string;
  password: string;
  secret: string;
  recoveryCodes: string[];
  /** Signed in, fully authenticated (fresh at the moment of confirmation). */
  client: Client;
}

export function assertError(r: Answer, status: number, code: string, what = ''): void {
  assert.equal(r.status, status, `${what} ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(r.json?.error?.code, code, `${what} ${r.text.slice(0, 300)}`);
}

/** Starts and confirms app setup for a signed-in client; the confirm code is the clock's current step. */
export async function enableTwoFactor(client: Client, clock: Clock): Promise<{ secret: string; recoveryCodes: string[] }> {
  const setup = await client.post(`${API}/me/two-factor/totp/setup`);
  assert.equal(setup.status, 200, setup.text);
  const secret: string = setup.json.secret;
  const confirm = await client.post(`${API}/me/two-factor/totp/confirm`, { code: codeAt(secret, clock.now()) });
  assert.equal(confirm.status, 200, confirm.text);
  return { secret, recoveryCodes: confirm.json.recoveryCodes };
}

/** Signs up a new account and turns 2FA on; the step of `clock.now()` is then used up. */
export async function signupWithTwoFactor(server: TestServer, clock: Clock, email: string, headers?: Record<string, string>): Promise<TwoFactorUser> {
  const client = server.client(headers);
  const r = await client.post(`${API}/signup`, { email, password: PASSWORD });
  assert.equal(r.status, 201, r.text);
  const { secret, recoveryCodes } = await enableTwoFactor(client, clock);
  return { email, password: PASSWORD, secret, recoveryCodes, client };
}

/**
 * For a describe block: a server over a fresh `kind` database on `clock`, and one account with 2FA
 * on (signupWithTwoFactor), made before the block's tests and closed after them. `server` and
 * `user` are there from the block's first `before` hook on.
 */
export function twoFactorSuite(
  kind: DbKind,
  clock: Clock,
  email: string,
  opts: { env?: Record<string, string> } = {},
): { readonly server: TestServer; readonly user: TwoFactorUser } {
  const suite = {} as { server: TestServer; user: TwoFactorUser };
  before(async () => {
    suite.server = await startTestServer(kind, { clock, env: opts.env });
    suite.user = await signupWithTwoFactor(suite.server, clock, email);
  });
  after(async () => {
    await suite.server?.close();
  });
  return suite;
}

/** The password step; asserts that a second factor is asked for. */
export async function pendingLogin(server: TestServer, user: { email: string; password: string }, client: Client = server.client()): Promise<Client> {
  const r = await client.post(`${API}/login`, { email: user.email, password: user.password });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'two_factor_required', r.text);
  return client;
}

/**
 * Moves a manual clock to the next 30-second step, so the code of "now" was never used. Every
 * TOTP login in a shared account goes through here.
 */
export function nextStep(clock: Clock & { advance(ms: number): void }): void {
  clock.advance(STEP_MS - (clock.now() % STEP_MS));
}

/** A complete login with an app code of the next step; returns the signed-in client and the answer. */
export async function totpLogin(
  server: TestServer,
  clock: Clock & { advance(ms: number): void },
  user: TwoFactorUser,
  opts: { client?: Client; trustDevice?: boolean } = {},
): Promise<{ client: Client; answer: Answer }> {
  const client = await pendingLogin(server, user, opts.client ?? server.client());
  nextStep(clock);
  const answer = await client.post(`${API}/login/two-factor`, {
    method: 'totp',
    code: codeAt(user.secret, clock.now()),
    ...(opts.trustDevice === undefined ? {} : { trustDevice: opts.trustDevice }),
  });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(answer.json, { status: 'ok' });
  return { client, answer };
}

/** The types in the account's security log, newest first. */
export async function logTypes(client: Client): Promise<string[]> {
  const r = await client.get(`${API}/me/security-log?limit=100`);
  assert.equal(r.status, 200, r.text);
  return (r.json as { type: string }[]).map((e) => e.type);
}

/** The user id of an email, straight from the database. */
export async function userIdOf(server: TestServer, email: string): Promise<string> {
  const r = await server.ctx.db.selectFrom('users').select('id').where('email_normalized', '=', email.toLowerCase()).executeTakeFirstOrThrow();
  return r.id;
}

/** Rows of one account in a table that has a user_id column. */
export async function rowsOf(server: TestServer, table: 'totp_credentials' | 'recovery_codes' | 'trusted_devices' | 'second_factor_attempts' | 'sessions', userId: string): Promise<Record<string, unknown>[]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (server.ctx.db as any).selectFrom(table).selectAll().where('user_id', '=', userId).execute();
}
