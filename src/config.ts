import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseDuration } from './core/duration.js';
import { parseRequireTwoFactor, type RequireTwoFactorRule } from './core/require-two-factor.js';
import { parseTrustProxy, TrustProxyError, type TrustProxy } from './core/trust-proxy.js';

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
  /** SPEC §12: how long a confirmed self-service recovery waits before it may complete. */
  recoveryDelayMs: number;
  /** Requests per minute per IP on the password and code endpoints. */
  authRateLimit: number;
  /** Which X-Forwarded-For entries to believe: none, a hop count, or the proxies' addresses. */
  trustProxy: TrustProxy;
  logLevel: string;
  /** TWOFOLD_REQUIRE_2FA (SPEC §9). */
  requireTwoFactor: RequireTwoFactorRule;
  /** TWOFOLD_REQUIRE_2FA_GRACE; 0 means none. */
  requireTwoFactorGraceMs: number;
  /** TWOFOLD_ACCESS_RULES: the forward-auth rules file, read at start and on SIGHUP. */
  accessRulesPath: string | undefined;
  /** TWOFOLD_COOKIE_DOMAIN, lower-case without dots at the ends: the session cookie's Domain. */
  cookieDomain: string | undefined;
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

function trustProxy(value: string | undefined): TrustProxy {
  try {
    return parseTrustProxy(value, 'TWOFOLD_TRUST_PROXY');
  } catch (err) {
    if (err instanceof TrustProxyError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Below this an idle limit logs people out between two clicks. */
const MIN_IDLE_MS = 10_000;
/** Browsers keep a cookie at most 400 days, so a longer session could not be kept anyway. */
const MAX_SESSION_MS = 400 * 86_400_000;

/** Session limits that make sense together, or a message saying which does not. */
function checkSessionLimits(idleMs: number, maxMs: number, env: NodeJS.ProcessEnv): void {
  const idleText = env.TWOFOLD_SESSION_IDLE || '1h';
  const maxText = env.TWOFOLD_SESSION_MAX || '24h';
  if (idleMs < MIN_IDLE_MS) throw new ConfigError(`TWOFOLD_SESSION_IDLE must be at least 10 seconds; got "${idleText}"`);
  if (idleMs > MAX_SESSION_MS) throw new ConfigError(`TWOFOLD_SESSION_IDLE must be at most 400 days; got "${idleText}"`);
  if (maxMs > MAX_SESSION_MS) throw new ConfigError(`TWOFOLD_SESSION_MAX must be at most 400 days (browsers keep cookies no longer); got "${maxText}"`);
  if (maxMs < idleMs) {
    throw new ConfigError(`TWOFOLD_SESSION_MAX (${maxText}) must not be shorter than TWOFOLD_SESSION_IDLE (${idleText}): a session ends at whichever comes first`);
  }
}

function duration(name: string, value: string | undefined, fallback: string, opts: { allowZero?: boolean } = {}): number {
  try {
    return parseDuration(value || fallback, opts);
  } catch (err) {
    throw new ConfigError(`${name}: ${(err as Error).message}`);
  }
}

function requireTwoFactorRule(value: string | undefined): RequireTwoFactorRule {
  try {
    return parseRequireTwoFactor(value);
  } catch (err) {
    throw new ConfigError(`TWOFOLD_REQUIRE_2FA ${(err as Error).message}`);
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

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/**
 * The session cookie is shared with every subdomain of this domain. The browser only accepts a
 * Domain that PUBLIC_URL's host is under, and never one for an IP address.
 */
function cookieDomain(value: string | undefined, publicUrl: URL): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const domain = value.trim().toLowerCase().replace(/^\./, '');
  if (!DOMAIN_NAME.test(domain) || /^[0-9.]+$/.test(domain)) {
    throw new ConfigError(`TWOFOLD_COOKIE_DOMAIN must be a domain name such as example.com; got "${value}"`);
  }
  const host = publicUrl.hostname.toLowerCase();
  if (host !== domain && !host.endsWith(`.${domain}`)) {
    throw new ConfigError(`TWOFOLD_COOKIE_DOMAIN "${domain}" must be PUBLIC_URL's host (${host}) or a domain it is under, or browsers refuse the cookie`);
  }
  return domain;
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
  checkSessionLimits(sessionIdleMs, sessionMaxMs, env);
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
    recoveryDelayMs: duration('TWOFOLD_RECOVERY_DELAY', env.TWOFOLD_RECOVERY_DELAY, '72h'),
    authRateLimit: integer('TWOFOLD_AUTH_RATE_LIMIT', env.TWOFOLD_AUTH_RATE_LIMIT, 60, 1, 1_000_000),
    trustProxy: trustProxy(env.TWOFOLD_TRUST_PROXY),
    logLevel: env.LOG_LEVEL || 'info',
    requireTwoFactor: requireTwoFactorRule(env.TWOFOLD_REQUIRE_2FA),
    requireTwoFactorGraceMs: duration('TWOFOLD_REQUIRE_2FA_GRACE', env.TWOFOLD_REQUIRE_2FA_GRACE, '7d', { allowZero: true }),
    accessRulesPath: env.TWOFOLD_ACCESS_RULES ? resolve(cwd, env.TWOFOLD_ACCESS_RULES) : undefined,
    cookieDomain: cookieDomain(env.TWOFOLD_COOKIE_DOMAIN, publicUrl),
    hashConcurrency: integer('TWOFOLD_HASH_CONCURRENCY', env.TWOFOLD_HASH_CONCURRENCY, Math.max(1, availableParallelism() - 1), 1, 1024),
    metricsPort: env.TWOFOLD_METRICS_PORT ? integer('TWOFOLD_METRICS_PORT', env.TWOFOLD_METRICS_PORT, 0, 1, 65535) : undefined,
    ...mailConfig(env, publicUrl, issuer),
  };
}
