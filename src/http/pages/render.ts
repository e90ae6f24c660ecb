import type { FastifyReply } from 'fastify';
import { h, type VNode } from 'preact';
import { PageRequestContext } from './two-factor-required.js';
import { render } from 'preact-render-to-string';

/**
 * Sends a server-rendered page. preact-render-to-string escapes every text and attribute value, so
 * templates never build HTML by hand. Pages can carry form tokens and account data: never cached.
 */
export function sendPage(reply: FastifyReply, page: VNode, status = 200, headers: Record<string, string> = {}): FastifyReply {
  return reply
    .code(status)
    .headers(headers)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send('<!doctype html>' + render(h(PageRequestContext.Provider, { value: { twoFactorGraceDeadline: reply.request.twoFactorGraceDeadline } }, page)));
}
