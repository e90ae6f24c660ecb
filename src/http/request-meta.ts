import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../service/context.js';

/** IP and a bounded user agent for the security log. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
}
