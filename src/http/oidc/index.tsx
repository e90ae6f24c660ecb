import { timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { hasSecondFactor } from '../../core/amr.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { saveConsent, findConsent } from '../../store/oidc.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { loadAuth } from '../auth.js';
import { csrfToken, verifyCsrf } from '../pages/csrf.js';
import { readForm } from '../pages/forms.js';
import { withNext } from '../pages/next-path.js';
import { sendPage } from '../pages/render.js';
import type { App } from '../schemas.js';
import { INTERACTION_PREFIX, isProviderPath, loginTimeOf } from './paths.js';
import type { ProviderHolder } from './provider.js';
import { ConsentPage, ContinuePage, TwoFactorNeededPage } from './views.js';

export { isProviderPath };

const PROVIDER_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/**
 * The provider (koa, told to trust forwarded headers) is given the client address Fastify found
 * under TWOFOLD_TRUST_PROXY, so the two never read a request differently and nothing a client forged
 * gets through; scheme and host are PUBLIC_URL's, so every URL it prints is under the issuer.
 */
function forwardAsFastifySees(request: FastifyRequest, publicUrl: URL): void {
  const h = request.raw.headers;
  delete h.forwarded;
  h['x-forwarded-proto'] = publicUrl.protocol.replace(':', '');
  h['x-forwarded-host'] = publicUrl.host;
  h['x-forwarded-for'] = request.ip;
}

const expiredRequest = () =>
  new AppError(400, 'interaction_expired', 'This sign-in request has expired or was already finished. Go back to the application and sign in again.');

export async function oidcPlugin(app: App, opts: { ctx: Context }): Promise<void> {
  const { ctx } = opts;
  const holder = lazyHolder(ctx, app.log);

  // The provider reads its own request bodies: Fastify leaves them unread on these routes.
  await app.register(async (raw: App) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const { handler } = await holder.current();
      forwardAsFastifySees(request, ctx.config.publicUrl);
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (name !== 'content-security-policy' && value !== undefined) reply.raw.setHeader(name, value as string);
      }
      reply.raw.setHeader('content-security-policy', PROVIDER_CSP);
      reply.hijack();
      await handler(request.raw, reply.raw);
    };
    raw.all('/oidc/*', { schema: { hide: true } }, handle);
    raw.get('/.well-known/openid-configuration', { schema: { hide: true } }, handle);
  });

  await app.register(async (pages: App) => interactionPages(pages, ctx, holder));
}

/**
 * The provider (oidc-provider, koa, jose: some 25 MB of memory) loads, and the first signing keys
 * are made, at the first OpenID Connect request: a service that guards apps by forward auth alone
 * never pays for it. A failure (database briefly away) is retried by the next request.
 */
function lazyHolder(ctx: Context, log: FastifyBaseLogger): ProviderHolder {
  let ready: Promise<ProviderHolder> | null = null;
  const init = () =>
    (ready ??= import('./provider.js')
      .then((m) => m.createProviderHolder(ctx, log))
      .catch((err: unknown) => {
        ready = null;
        log.error({ err: { message: (err as Error).message } }, 'OpenID provider not ready; retrying at the next request');
        throw err;
      }));
  return { current: async () => (await init()).current() };
}

function sinceMac(ctx: Context, uid: string, since: number): string {
  return ctx.box.mac('oidc-interaction-since', `${uid}:${since}`);
}

/** The moment the person was sent to log in again for this interaction, when the URL proves it. */
function provenSince(ctx: Context, uid: string, query: Record<string, unknown>): number | undefined {
  const since = typeof query.since === 'string' && /^[0-9]{1,16}$/.test(query.since) ? Number(query.since) : undefined;
  if (since === undefined || typeof query.sig !== 'string') return undefined;
  const want = Buffer.from(sinceMac(ctx, uid, since));
  const got = Buffer.from(query.sig);
  return want.length === got.length && timingSafeEqual(want, got) ? since : undefined;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

function interactionPages(app: App, ctx: Context, holder: ProviderHolder): void {
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') verifyCsrf(ctx, request);
  });

  const UID = /^[A-Za-z0-9_-]{1,64}$/;

  async function load(request: FastifyRequest, reply: FastifyReply): Promise<{ provider: Provider; details: Details; uid: string }> {
    const uid = String((request.params as Record<string, unknown>).uid ?? '');
    if (!UID.test(uid)) throw expiredRequest();
    const { provider } = await holder.current();
    forwardAsFastifySees(request, ctx.config.publicUrl);
    let details: Details;
    try {
      details = await provider.interactionDetails(request.raw, reply.raw);
    } catch {
      throw expiredRequest();
    }
    if (details.uid !== uid) throw expiredRequest();
    return { provider, details, uid };
  }

  async function finish(provider: Provider, request: FastifyRequest, reply: FastifyReply, result: Record<string, unknown>, merge: boolean) {
    const to = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: merge });
    return sendPage(reply, <ContinuePage to={to} />);
  }

  app.get('/oidc/interaction/:uid', { schema: { hide: true } }, async (request, reply) => {
    const { provider, details, uid } = await load(request, reply);
    const self = `${INTERACTION_PREFIX}${uid}`;
    const client = await provider.Client.find(String(details.params.client_id));
    if (!client) throw expiredRequest();
    const meta = client.metadata();
    const auth = await loadAuth(ctx, request);
    const signedIn = auth && !auth.session.pending ? auth : null;
    const now = ctx.clock.now();

    const relogin = () => {
      const next = `${self}?since=${now}&sig=${sinceMac(ctx, uid, now)}`;
      return reply.header('cache-control', 'no-store').redirect(withNext(signedIn ? '/login?fresh=1' : '/login', next), 303);
    };

    if (details.prompt.name === 'login' || !signedIn || signedIn.session.userId !== details.session?.accountId) {
      if (!signedIn) return relogin();
      const loginMs = loginTimeOf(signedIn.session);
      // prompt=login: only a login made after the person was sent to it counts.
      if (details.prompt.name === 'login' && details.prompt.reasons.includes('login_prompt')) {
        const since = provenSince(ctx, uid, request.query as Record<string, unknown>);
        if (since === undefined || loginMs < since) return relogin();
      }
      const maxAge = details.params.max_age;
      if (maxAge !== undefined && now - loginMs > Number(maxAge) * 1000) return relogin();
      if (meta.require_2fa === true && !hasSecondFactor(signedIn.session.amr)) {
        if (isTwoFactorEnabled(await twoFactorStatus(ctx.db, signedIn.session.userId))) {
          return reply.redirect(withNext('/reauthenticate', self), 303);
        }
        return sendPage(reply, <TwoFactorNeededPage csrf={csrfToken(ctx, request, reply)} clientName={client.clientName ?? client.clientId} continueUrl={self} />);
      }
      return finish(provider, request, reply, { login: { accountId: signedIn.session.userId, ts: Math.floor(loginMs / 1000), amr: [...signedIn.session.amr], remember: true } }, false);
    }

    if (details.prompt.name === 'consent') {
      if (meta.first_party === true) return finish(provider, request, reply, { consent: { grantId: await grantAll(provider, details, signedIn.session.userId) } }, true);
      const scopes = String(details.params.scope ?? 'openid').split(' ').filter(Boolean);
      const csrf = csrfToken(ctx, request, reply);
      return sendPage(reply, <ConsentPage csrf={csrf} action={`${self}/consent`} clientName={client.clientName ?? client.clientId} email={signedIn.email} scopes={scopes} />);
    }
    throw expiredRequest();
  });

  app.post('/oidc/interaction/:uid/consent', { schema: { hide: true } }, async (request, reply) => {
    const { provider, details } = await load(request, reply);
    const form = readForm(request, ['decision', '_csrf']);
    const auth = await loadAuth(ctx, request);
    if (!auth || auth.session.pending || auth.session.userId !== details.session?.accountId || details.prompt.name !== 'consent') throw expiredRequest();
    if (form.decision === 'deny') {
      return finish(provider, request, reply, { error: 'access_denied', error_description: 'The person did not allow this application to use their account.' }, false);
    }
    if (form.decision !== 'allow') throw new AppError(400, 'invalid_request', 'Choose Allow or Deny.');
    const clientId = String(details.params.client_id);
    const grantId = await grantAll(provider, details, auth.session.userId);
    const asked = String(details.params.scope ?? '').split(' ').filter(Boolean);
    const before = (await findConsent(ctx.db, auth.session.userId, clientId)) ?? [];
    await saveConsent(ctx.db, auth.session.userId, clientId, [...before, ...asked], ctx.clock.now());
    return finish(provider, request, reply, { consent: { grantId } }, true);
  });
}

/** Grants what the consent prompt found missing, on the interaction's grant or a new one. */
async function grantAll(provider: Provider, details: Details, accountId: string): Promise<string> {
  const clientId = String(details.params.client_id);
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant = existing && existing.accountId === accountId && existing.clientId === clientId ? existing : new provider.Grant({ accountId, clientId });
  const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}
