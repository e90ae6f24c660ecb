import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../service/context.js';
import { unauthenticated } from '../../service/errors.js';
import type { ActiveSession } from '../../service/sessions.js';
import { loadAuth } from '../auth.js';
import { csrfToken } from './csrf.js';

/** What every page template needs about the request. */
export interface PageBase {
  /** The CSRF token for the page's forms (the seed cookie is set when missing). */
  csrf: string;
  /** The session, pending or full, or null. */
  auth: ActiveSession | null;
}

export async function pageBase(ctx: Context, request: FastifyRequest, reply: FastifyReply): Promise<PageBase> {
  return { csrf: csrfToken(ctx, request, reply), auth: await loadAuth(ctx, request) };
}

/**
 * For signed-in pages: the full session, or a thrown `unauthenticated` that the page error handler
 * turns into a redirect to /login?next=<this page>.
 */
export async function signedInPage(ctx: Context, request: FastifyRequest, reply: FastifyReply): Promise<PageBase & { auth: ActiveSession }> {
  const base = await pageBase(ctx, request, reply);
  if (!base.auth || base.auth.session.pending) throw unauthenticated();
  return base as PageBase & { auth: ActiveSession };
}
