import type { FastifyReply } from 'fastify';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';

/**
 * Sends a server-rendered page. preact-render-to-string escapes every text and attribute value, so
 * templates never build HTML by hand. Pages can carry form tokens and account data: never cached.
 *
 * Pages get `Referrer-Policy: same-origin` instead of the global `no-referrer`: under no-referrer a
 * browser sends `Origin: null` with the page's own form posts and fetches, which the Origin check
 * (rightly) refuses. same-origin still tells other sites nothing.
 */
export function sendPage(reply: FastifyReply, page: VNode, status = 200, headers: Record<string, string> = {}): FastifyReply {
  return reply
    .code(status)
    .headers(headers)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'same-origin')
    .type('text/html; charset=utf-8')
    .send('<!doctype html>' + render(page));
}
