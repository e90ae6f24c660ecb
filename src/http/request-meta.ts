import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../service/context.js';

/** The device-recognition cookie's names (with and without https's `__Host-` prefix). */
export const KNOWN_DEVICE_COOKIES = ['__Host-twofold_known', 'twofold_known'] as const;

/** IP and a bounded user agent for the security log, and the device-recognition cookie. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent'];
  // Either name will do: the value only counts when it is a keyed hash made for the account.
  const known = KNOWN_DEVICE_COOKIES.map((n) => request.cookies?.[n]).find((v) => typeof v === 'string' && v.length > 0 && v.length <= 200);
  return { ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null, knownDevice: known };
}
