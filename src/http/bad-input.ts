import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../service/errors.js';

function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  for (const [k, v] of Object.entries(value)) if (k.includes('\u0000') || hasNul(v, depth + 1)) return true;
  return false;
}

/** NUL bytes have no place in any field and truncate strings in some C libraries; refuse them early. */
export function refuseNulBytes(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  if (hasNul(request.body) || hasNul(request.query) || hasNul(request.params)) {
    return done(new AppError(400, 'invalid_request', 'Text fields must not contain NUL characters.'));
  }
  done();
}
