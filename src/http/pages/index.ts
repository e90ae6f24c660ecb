import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../service/context.js';
import type { App } from '../schemas.js';
import { continuePages } from '../authz/continue.js';
import { accountPages } from './account-pages.js';
import { accountRecoveryPages } from './account-recovery.js';
import { loadVendorFiles, PUBLIC_DIR, vendorFile } from './assets.js';
import { verifyCsrf } from './csrf.js';
import { changePasswordPages } from './change-password.js';
import { disablePages } from './disable-two-factor.js';
import { mailPages } from './mail-pages.js';
import { passkeyLoginPages } from './passkey-login.js';
import { reauthenticatePages } from './reauthenticate.js';
import { securityKeyPages } from './security-keys.js';
import { recoveryCodePages } from './recovery-codes.js';
import { settingsPages } from './settings.js';
import { twoFactorLoginPages } from './two-factor-login.js';
import { twoFactorSetupPages } from './two-factor-setup.js';
import { requireTwoFactorPageGuard, twoFactorRequiredPages } from './two-factor-required.js';
import { sessionPages } from './sessions.js';
import { deleteAccountPages } from './delete-account.js';
import { adminPages } from '../admin/pages.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The same path on PUBLIC_URL, checked as it will be emitted. String concatenation, not
 * new URL(url, base): a path like "//evil.example" stays a path. A request target that is not a
 * path (the absolute form "http://other/x", or "*") would not be one after the origin either, so
 * it goes to the start page.
 */
export function onPublicOrigin(publicOrigin: string, requestUrl: string): string {
  const location = publicOrigin + (requestUrl.startsWith('/') ? requestUrl : '/');
  try {
    if (new URL(location).origin === publicOrigin) return location;
  } catch {
    // Not a URL at all: the start page below.
  }
  return publicOrigin + '/';
}

/**
 * WebAuthn binds keys to PUBLIC_URL's host, and cookies are per host: a page opened under another
 * name for this server (127.0.0.1 instead of localhost, a bare IP, …) is sent to the same path on
 * PUBLIC_URL. Only GET/HEAD pages; the API, /healthz and /assets are answered wherever they are asked.
 */
function canonicalHost(ctx: Context) {
  const want = ctx.config.publicUrl.host.toLowerCase();
  return async function redirectToPublicHost(request: FastifyRequest, reply: FastifyReply) {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    if (request.url.startsWith('/assets/')) return;
    if (request.host.toLowerCase() === want) return;
    return reply.redirect(onPublicOrigin(ctx.config.publicOrigin, request.url), 308);
  };
}

/** The server-rendered pages (SPEC §4). Every route registered here gets the host redirect and CSRF check. */
export async function pagesPlugin(app: App, opts: { ctx: Context }): Promise<void> {
  const { ctx } = opts;
  const authRateLimit = { max: ctx.config.authRateLimit, timeWindow: 60_000 };

  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/assets/',
    // URLs carry a content hash (assetUrl), so a day of caching never serves a stale file.
    maxAge: '1d',
    index: false,
    list: false,
    dotfiles: 'deny',
  });

  // Browser libraries from node_modules (the WebAuthn helper), read once now and kept in memory.
  loadVendorFiles();
  app.get('/assets/vendor/:name', async (request, reply) => {
    const file = vendorFile(String((request.params as Record<string, unknown>).name ?? ''));
    if (!file) return reply.callNotFound();
    const etag = `"${file.version}"`;
    reply.header('cache-control', 'public, max-age=86400').header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  });

  app.addHook('onRequest', canonicalHost(ctx));
  app.addHook('preHandler', async (request) => {
    if (!SAFE.has(request.method)) verifyCsrf(ctx, request);
  });

  // After the CSRF check, so that a refused form is a 403 and not a redirect.
  if (ctx.config.requireTwoFactor.kind !== 'off') app.addHook('preHandler', requireTwoFactorPageGuard(ctx));

  accountPages(app, ctx, authRateLimit);
  settingsPages(app, ctx);
  securityKeyPages(app, ctx, authRateLimit);
  twoFactorLoginPages(app, ctx, authRateLimit);
  twoFactorSetupPages(app, ctx, authRateLimit);
  recoveryCodePages(app, ctx);
  disablePages(app, ctx, authRateLimit);
  changePasswordPages(app, ctx, authRateLimit);
  reauthenticatePages(app, ctx, authRateLimit);
  twoFactorRequiredPages(app, ctx);
  sessionPages(app, ctx);
  deleteAccountPages(app, ctx, authRateLimit);
  adminPages(app, ctx);
  mailPages(app, ctx, authRateLimit);
  passkeyLoginPages(app, ctx, authRateLimit);
  accountRecoveryPages(app, ctx, authRateLimit);
  continuePages(app, ctx);
}
