import type { OutboxState } from '../core/mail-outbox.js';
import type { AppError } from './errors.js';

/*
 * Prometheus metrics (SPEC §13), every series Twofold exposes, defined here and nowhere else.
 * Features call the small typed functions of `metrics`; until enableMetrics() runs (only when
 * TWOFOLD_METRICS_PORT is set) they are empty functions, prom-client is never loaded, and the hot
 * paths pay one call of an empty function. No label ever holds a personal value: labels are fixed
 * words or route templates.
 */

export type LoginResult = 'ok' | 'two_factor_required' | 'invalid_credentials' | 'throttled' | 'rejected' | 'error';
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'webauthn' | 'passkey';
export type SecondFactorResult = 'ok' | 'invalid' | 'replayed' | 'locked';
/** Forward-auth answers (SPEC §8): allowed, sent to log in, signed in but refused. */
export type AuthzDecision = 'allow' | 'login' | 'deny';
/** Mail outbox states (SPEC §7); a mail module reports how many messages are in each. */
export type MailOutboxState = OutboxState;

export interface Metrics {
  /** One answered HTTP request; `route` is the route template (or `unmatched`), never the URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  login(result: LoginResult): void;
  secondFactor(method: SecondFactorMethod, result: SecondFactorResult): void;
  lockout(): void;
  recoveryCodeUsed(): void;
  authzDecision(decision: AuthzDecision, seconds: number): void;
}

const noop = (): void => {};

/** What features call. Its functions are replaced in place by enableMetrics(). */
export const metrics: Metrics = {
  httpRequest: noop,
  login: noop,
  secondFactor: noop,
  lockout: noop,
  recoveryCodeUsed: noop,
  authzDecision: noop,
};

let mailOutbox: (() => Promise<Partial<Record<MailOutboxState, number>>>) | undefined;

/**
 * A mail module registers how to count its outbox (one query, run at each scrape, never on a
 * request path). Registering costs nothing when metrics are off.
 */
export function registerMailOutboxCollector(collect: () => Promise<Partial<Record<MailOutboxState, number>>>): void {
  mailOutbox = collect;
}

/** Counts a password login's outcome from what the login flow returned or threw. */
export async function countLogin<T extends { status: 'ok' | 'two_factor_required' }>(attempt: Promise<T>): Promise<T> {
  try {
    const r = await attempt;
    metrics.login(r.status);
    return r;
  } catch (err) {
    const e = err as Partial<AppError>;
    metrics.login(
      e.code === 'invalid_credentials' ? 'invalid_credentials' : e.statusCode === 429 ? 'throttled' : typeof e.statusCode === 'number' && e.statusCode < 500 ? 'rejected' : 'error',
    );
    throw err;
  }
}

/** Counts a check that cannot be guessed (security key, passkey): it passes or it throws. */
export async function countSecondFactor<T>(method: 'webauthn' | 'passkey', check: Promise<T>): Promise<T> {
  try {
    const r = await check;
    metrics.secondFactor(method, 'ok');
    return r;
  } catch (err) {
    metrics.secondFactor(method, 'invalid');
    throw err;
  }
}

export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

let enabled: Promise<MetricsEndpoint> | undefined;

/** Loads prom-client, defines every series and makes `metrics` record into them. Idempotent. */
export function enableMetrics(): Promise<MetricsEndpoint> {
  enabled ??= (async () => {
    const prom = await import('prom-client');
    const register = new prom.Registry();
    prom.collectDefaultMetrics({ register });

    const httpDuration = new prom.Histogram({
      name: 'twofold_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [register],
    });
    const logins = new prom.Counter({ name: 'twofold_logins_total', help: 'Password logins by result', labelNames: ['result'] as const, registers: [register] });
    const secondFactor = new prom.Counter({
      name: 'twofold_second_factor_total',
      help: 'Second-factor checks by method and result',
      labelNames: ['method', 'result'] as const,
      registers: [register],
    });
    const lockouts = new prom.Counter({ name: 'twofold_lockouts_total', help: 'Accounts locked after repeated wrong codes', registers: [register] });
    const recoveryCodes = new prom.Counter({ name: 'twofold_recovery_codes_used_total', help: 'Recovery codes used', registers: [register] });
    const authz = new prom.Counter({ name: 'twofold_authz_decisions_total', help: 'Forward-auth decisions', labelNames: ['decision'] as const, registers: [register] });
    const authzDuration = new prom.Histogram({
      name: 'twofold_authz_duration_seconds',
      help: 'Time to make a forward-auth decision',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [register],
    });
    new prom.Gauge({
      name: 'twofold_mail_outbox_messages',
      help: 'Messages in the mail outbox by state',
      labelNames: ['state'] as const,
      registers: [register],
      async collect() {
        if (!mailOutbox) return;
        const counts = await mailOutbox();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n ?? 0);
      },
    });

    metrics.httpRequest = (method, route, status, seconds) =>
      httpDuration.observe({ method: METHODS.has(method) ? method : 'other', route, status: String(status) }, seconds);
    metrics.login = (result) => logins.inc({ result });
    metrics.secondFactor = (method, result) => secondFactor.inc({ method, result });
    metrics.lockout = () => lockouts.inc();
    metrics.recoveryCodeUsed = () => recoveryCodes.inc();
    metrics.authzDecision = (decision, seconds) => {
      authz.inc({ decision });
      authzDuration.observe(seconds);
    };
    return { contentType: register.contentType, render: () => register.metrics() };
  })();
  return enabled;
}
