import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../service/errors.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Fastify's own refusals of bad input, in the API's words. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', message: 'The request body is too large (64 KiB at most).' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'Send the body as application/json.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The request body is empty; send a JSON object.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request', message: 'The Content-Length header does not match the body.' },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, code: 'bad_request', message: 'The Content-Type header is not valid.' },
  // Router refusals, answered through frameworkErrors in server.ts; the message must not echo the URL.
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', message: 'A part of the address is too long.' },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_request', message: 'The address is not valid.' },
};

export interface NormalizedError {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
  field?: string | undefined;
}

/** Maps anything thrown in a request to a status, a stable code and a message fit for people. */
export function normalizeError(err: unknown): NormalizedError {
  if (err instanceof AppError) return { status: err.statusCode, code: err.code, message: err.message, headers: err.headers, field: err.field };
  const e = err as FastifyError & { validation?: unknown };
  if (e.validation) {
    return { status: 400, code: 'invalid_request', message: `Invalid request: ${e.message}.`, headers: {} };
  }
  const known = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (known) return { status: known.status, code: known.code, message: known.message, headers: {} };
  if (e instanceof SyntaxError) return { ...FASTIFY_CODES.FST_ERR_CTP_INVALID_JSON_BODY!, headers: {} };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return { status, code: 'bad_request', message: e.message || 'Bad request.', headers: {} };
  return { status: 500, code: 'internal_error', message: 'Something went wrong on our side. Please try again.', headers: {} };
}

export function sendJsonError(reply: FastifyReply, n: NormalizedError): FastifyReply {
  return reply.code(n.status).headers(n.headers).type('application/json; charset=utf-8').send({ error: { code: n.code, message: n.message } } satisfies ErrorBody);
}

export function logIfServerError(request: FastifyRequest, n: NormalizedError, err: unknown): void {
  if (n.status >= 500) request.log.error({ err }, 'request failed');
}
