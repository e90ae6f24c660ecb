import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseDuration } from './core/duration.js';

export type SignupMode = 'open' | 'closed';
export type RecoveryCodeMode = 'viewable' | 'hashed';

/** Everything the service reads from its environment, parsed and checked once at start. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** 32 bytes from TWOFOLD_SECRET; the root of every key used for data at rest. */
  secret: Buffer;
  /** Earlier secrets, from TWOFOLD_SECRET_PREVIOUS: they only decrypt and find what they sealed. */
  previousSecrets: Buffer[];
  publicUrl: URL;
  /** `scheme://host[:port]` of PUBLIC_URL, what a browser sends as `Origin`. */
  publicOrigin: string;
  /** Cookies get `Secure` and the `__Host-` prefix when PUBLIC_URL is https. */
  secureCookies: boolean;
  issuer: string;
  redisUrl: string | undefined;
  signup: SignupMode;
  recoveryCodes: RecoveryCodeMode;
  sessionIdleMs: number;
  sessionMaxMs: number;
  /** Requests per minute per IP on the password and code endpoints. */
  authRateLimit: number;
  trustProxy: boolean;
  logLevel: string;
  /** How many password hashes may run at once (TWOFOLD_HASH_CONCURRENCY; default cores − 1). */
  hashConcurrency: number;
  /** TWOFOLD_METRICS_PORT: Prometheus metrics on their own port; undefined: off. */
  metricsPort: number | undefined;
  /** SPEC §7 mail: SMTP URL, or unset for .eml files in mailDir. */
  smtpUrl: string | undefined;
  /** The From header: the issuer name as the sender name. */
  mailFrom: string;
  mailDir: string;
  /** Email on a sign-in from a browser new to the account. */
  notifyNewDevice: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/twofold.db';
const SECRET_FILE = './data/secret.key';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function sqlitePath(url: string): string {
  if (!url.startsWith('sqlite:')) throw new ConfigError(`DATABASE_URL must be sqlite:<path> or postgres://…, got "${url}"`);
  const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (!path) throw new ConfigError('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/twofold.db');
  return path;
}

function decodeSecret(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError(`${source} must be 32 random bytes in base64 (for example: openssl rand -base64 32); it decodes to ${key.length} bytes`);
  }
  return key;
}

/**
 * SQLite installs get a secret generated on first start so that `npm start` needs nothing;
 * PostgreSQL installs have several nodes that must share one, so it has to be given.
 */
function loadSecret(env: NodeJS.ProcessEnv, databaseUrl: string, cwd: string): Buffer {
  if (env.TWOFOLD_SECRET) return decodeSecret(env.TWOFOLD_SECRET, 'TWOFOLD_SECRET');
  if (isPostgresUrl(databaseUrl)) {
    throw new ConfigError(
      'TWOFOLD_SECRET is required with PostgreSQL: every node must encrypt with the same key. Generate one with `openssl rand -base64 32` and give it to every node.',
    );
  }
  const file = resolve(cwd, SECRET_FILE);
  if (existsSync(file)) return decodeSecret(readFileSync(file, 'utf8'), file);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx' so that two processes starting together cannot overwrite each other's key.
  try {
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return decodeSecret(readFileSync(file, 'utf8'), file);
    throw err;
  }
  chmodSync(file, 0o600);
  return key;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be one of ${allowed.join(', ')}; got "${value}"`);
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got "${value}"`);
  return n;
}

function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false; got "${value}"`);
}

function duration(name: string, value: string | undefined, fallback: string): number {
  try {
    return parseDuration(value || fallback);
  } catch (err) {
    throw new ConfigError(`${name}: ${(err as Error).message}`);
  }
}

function mailConfig(env: NodeJS.ProcessEnv, publicUrl: URL, issuer: string) {
  const smtpUrl = env.TWOFOLD_SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\/[^/]/i.test(smtpUrl)) throw new ConfigError('TWOFOLD_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…');
  const from = (env.TWOFOLD_MAIL_FROM ?? '').trim();
  if (/[\r\n]/.test(from)) throw new ConfigError('TWOFOLD_MAIL_FROM must be one line');
  // The issuer is quoted as a display name; a quote or backslash in it is dropped, not escaped.
  const name = issuer.replace(/["\\\r\n]/g, '');
  return {
    smtpUrl,
    mailFrom: from || `"${name}" <no-reply@${publicUrl.hostname}>`,
    mailDir: env.TWOFOLD_MAIL_DIR || './data/mail',
    notifyNewDevice: env.TWOFOLD_NOTIFY_NEW_DEVICE === undefined || env.TWOFOLD_NOTIFY_NEW_DEVICE === '' ? true : flag('TWOFOLD_NOTIFY_NEW_DEVICE', env.TWOFOLD_NOTIFY_NEW_DEVICE),
  };
}

/** Reads `.env` (if present) under the real environment, which wins. */
export function loadDotEnv(cwd = process.cwd()): void {
  const file = resolve(cwd, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const port = integer('PORT', env.PORT, 3000, 0, 65535);
  const databaseUrl = env.DATABASE_URL || DEFAULT_DATABASE_URL;
  if (!isPostgresUrl(databaseUrl)) sqlitePath(databaseUrl);
  let publicUrl: URL;
  try {
    publicUrl = new URL(env.PUBLIC_URL || `http://localhost:${port}`);
  } catch {
    throw new ConfigError(`PUBLIC_URL is not a URL: "${env.PUBLIC_URL}"`);
  }
  if (publicUrl.protocol !== 'http:' && publicUrl.protocol !== 'https:') throw new ConfigError('PUBLIC_URL must be http or https');
  const sessionIdleMs = duration('TWOFOLD_SESSION_IDLE', env.TWOFOLD_SESSION_IDLE, '1h');
  const sessionMaxMs = duration('TWOFOLD_SESSION_MAX', env.TWOFOLD_SESSION_MAX, '24h');
  const issuer = (env.TWOFOLD_ISSUER ?? 'Twofold').trim() || 'Twofold';
  if (issuer.includes(':')) throw new ConfigError('TWOFOLD_ISSUER must not contain ":" (it separates issuer and account in the otpauth label)');
  return {
    port,
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    secret: loadSecret(env, databaseUrl, cwd),
    previousSecrets: (env.TWOFOLD_SECRET_PREVIOUS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s, i) => decodeSecret(s, `TWOFOLD_SECRET_PREVIOUS (key ${i + 1})`)),
    publicUrl,
    publicOrigin: publicUrl.origin,
    secureCookies: publicUrl.protocol === 'https:',
    issuer,
    redisUrl: env.REDIS_URL || undefined,
    signup: oneOf('TWOFOLD_SIGNUP', env.TWOFOLD_SIGNUP, ['open', 'closed'] as const, 'open'),
    recoveryCodes: oneOf('TWOFOLD_RECOVERY_CODES', env.TWOFOLD_RECOVERY_CODES, ['viewable', 'hashed'] as const, 'viewable'),
    sessionIdleMs,
    sessionMaxMs,
    authRateLimit: integer('TWOFOLD_AUTH_RATE_LIMIT', env.TWOFOLD_AUTH_RATE_LIMIT, 60, 1, 1_000_000),
    trustProxy: flag('TWOFOLD_TRUST_PROXY', env.TWOFOLD_TRUST_PROXY),
    logLevel: env.LOG_LEVEL || 'info',
    hashConcurrency: integer('TWOFOLD_HASH_CONCURRENCY', env.TWOFOLD_HASH_CONCURRENCY, Math.max(1, availableParallelism() - 1), 1, 1024),
    metricsPort: env.TWOFOLD_METRICS_PORT ? integer('TWOFOLD_METRICS_PORT', env.TWOFOLD_METRICS_PORT, 0, 1, 65535) : undefined,
    ...mailConfig(env, publicUrl, issuer),
  };
}
