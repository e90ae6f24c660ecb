import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

export interface CookieNames {
  session: string;
  device: string;
  csrf: string;
  /** Device recognition: this browser has signed in to an account before (SPEC §3 password limit). */
  known: string;
}

/** Under https the `__Host-` prefix pins cookies to this exact host, path / and Secure. */
export function cookieNames(config: Config): CookieNames {
  const p = config.secureCookies ? '__Host-' : '';
  return { session: `${p}twofold_session`, device: `${p}twofold_device`, csrf: `${p}twofold_csrf`, known: `${p}twofold_known` };
}

function baseOptions(config: Config) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies };
}

export function setCookie(reply: FastifyReply, config: Config, name: string, value: string, maxAgeMs: number): void {
  reply.setCookie(name, value, { ...baseOptions(config), maxAge: Math.floor(maxAgeMs / 1000) });
}

export function clearCookie(reply: FastifyReply, config: Config, name: string): void {
  reply.clearCookie(name, baseOptions(config));
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const v = request.cookies[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
