import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NormalizedError } from '../errors.js';
import { Layout, PageHeading } from './layout.js';
import { safeNext, withNext } from './next-path.js';
import { sendPage } from './render.js';

/** Requests that get JSON errors: the API, the health check and the forward-auth endpoints. Everything else gets HTML pages. */
export function isJsonPath(url: string): boolean {
  return url.startsWith('/authz/') || url === '/api' || url.startsWith('/api/') || url.startsWith('/api?') || url === '/healthz' || url.startsWith('/healthz?');
}

const TITLES: Record<number, string> = {
  400: 'That did not work',
  401: 'Please log in',
  403: 'Not allowed',
  404: 'Page not found',
  405: 'Not allowed',
  409: 'That did not work',
  413: 'Too much data',
  415: 'That did not work',
  429: 'Too many attempts',
  500: 'Something went wrong',
  503: 'Temporarily unavailable',
};

function titleFor(n: NormalizedError): string {
  if (n.code === 'csrf_failed') return 'This form has expired';
  if (n.code === 'cross_origin_request') return 'Request refused';
  return TITLES[n.status] ?? (n.status >= 500 ? 'Something went wrong' : 'That did not work');
}

export function ErrorPage({ title, message, status }: { title: string; message: string; status: number }) {
  return (
    <Layout title={title}>
      <div class="card error-card">
        <p class="error-status">Error {status}</p>
        <PageHeading title={title} lead={message} />
        <p class="actions">
          <a class="button button-primary" href="/">
            Go to the start page
          </a>
        </p>
      </div>
    </Layout>
  );
}

export const NOT_FOUND: NormalizedError = { status: 404, code: 'not_found', message: 'There is nothing at this address. Check the link, or start again from the start page.', headers: {} };

/**
 * The HTML answer to an error on a page request: a redirect to the login where that is what the
 * person needs, else an error page with the status, the message in plain words and never a stack
 * trace (normalizeError already replaced anything internal by a generic sentence).
 */
export function sendPageError(request: FastifyRequest, reply: FastifyReply, n: NormalizedError): FastifyReply {
  const reading = request.method === 'GET' || request.method === 'HEAD';
  if (n.code === 'unauthenticated') {
    return reply.redirect(withNext('/login', reading ? safeNext(request.url) : undefined), 303);
  }
  if (n.code === 'no_pending_login') return reply.redirect('/login?expired=1', 303);
  return sendPage(reply, <ErrorPage title={titleFor(n)} message={n.message} status={n.status} />, n.status, n.headers);
}
