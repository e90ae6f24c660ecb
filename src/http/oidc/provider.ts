import { hkdfSync } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import Provider, { errors, interactionPolicy, type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { hasSecondFactor } from '../../core/amr.js';
import { SCOPES } from '../../core/oidc-client.js';
import type { Context } from '../../service/context.js';
import { logout } from '../../service/accounts.js';
import { clientMetadata } from '../../service/oidc/clients.js';
import { ensureSigningKeys, ID_TOKEN_TTL_S, loadSigningKeys, SIGNING_ALGS } from '../../service/oidc/keys.js';
import { oidcAccount } from '../../service/oidc/accounts.js';
import { resolveSession, type ActiveSession } from '../../service/sessions.js';
import { consumePayload, deletePayload, deletePayloadsOfGrant, findConsent, findPayload, keysVersion, upsertPayload } from '../../store/oidc.js';
import { cookieNames } from '../cookies.js';
import { INTERACTION_PREFIX, loginTimeOf } from './paths.js';
import { renderEndSessionPage, renderOidcErrorPage, renderSignedOutPage } from './views.js';


/** The issuer is PUBLIC_URL without a trailing slash, as relying parties compare it exactly. */
export function issuerOf(ctx: Context): string {
  return ctx.config.publicUrl.href.replace(/\/+$/, '');
}

/** Cookie signing keys for the provider, derived from TWOFOLD_SECRET (and the previous secrets, to verify). */
function cookieKeys(ctx: Context): string[] {
  return [ctx.config.secret, ...ctx.config.previousSecrets].map((s) =>
    Buffer.from(hkdfSync('sha256', s, Buffer.alloc(0), 'twofold oidc cookies v1', 32)).toString('base64url'),
  );
}

/**
 * Ids come straight from requests (codes, tokens, client ids): anything that cannot be one is simply
 * not found, before PostgreSQL could refuse it (a NUL byte) with an error that would become a 500.
 */
function usableId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 512 && !value.includes('\u0000');
}

/** Every provider model but Client is kept in one table; clients come from `twofold clients add`. */
function adapterFor(ctx: Context) {
  return class KyselyAdapter implements Adapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed with the twofold CLI');
      await upsertPayload(ctx.db, {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
        userCode: typeof payload.userCode === 'string' ? payload.userCode : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        expiresAt: expiresIn ? ctx.clock.now() + expiresIn * 1000 : null,
      });
    }

    private async findBy(by: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      if (!usableId(value)) return undefined;
      const r = await findPayload(ctx.db, this.model, by, value, ctx.clock.now());
      if (!r) return undefined;
      const payload = JSON.parse(r.payload) as AdapterPayload;
      return r.consumedAt === null ? payload : { ...payload, consumed: Math.floor(r.consumedAt / 1000) };
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        if (!usableId(id) || id.length > 128) return undefined;
        return (await clientMetadata(ctx, id)) as AdapterPayload | undefined;
      }
      return this.findBy('id', id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findBy('uid', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy('user_code', userCode);
    }

    /**
     * One conditional write: of two requests redeeming the same code or refresh token at once (on
     * any nodes), only one changes the row; the other is refused as a reuse.
     */
    async consume(id: string): Promise<void> {
      if (!usableId(id)) throw new errors.InvalidGrant('grant request is invalid');
      const won = await consumePayload(ctx.db, this.model, id, ctx.clock.now());
      if (!won) throw new errors.InvalidGrant('grant request is invalid');
    }

    async destroy(id: string): Promise<void> {
      if (!usableId(id)) return;
      await deletePayload(ctx.db, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (!usableId(grantId)) return;
      await deletePayloadsOfGrant(ctx.db, grantId);
    }
  };
}

async function twofoldSession(ctx: Context, koa: KoaContextWithOIDC): Promise<ActiveSession | null> {
  const token = koa.cookies.get(cookieNames(ctx.config).session);
  return resolveSession(ctx, token || undefined);
}

function clientRequires2fa(koa: KoaContextWithOIDC): boolean {
  return koa.oidc.client?.metadata().require_2fa === true;
}

/**
 * Twofold's session cookie is the source of truth: the provider's own session counts only while the
 * Twofold session of the same person is alive, recent enough for max_age, and (for a client that
 * needs it) proved a second factor. Otherwise the login prompt sends the person to Twofold's pages.
 */
function policy(ctx: Context) {
  const base = interactionPolicy.base();
  const login = base.get('login')!;
  login.checks.add(
    new interactionPolicy.Check('twofold_session', 'the Twofold session ended, changed, or is not strong enough', 'login_required', async (koa) => {
      const accountId = koa.oidc.session?.accountId;
      if (!accountId) return interactionPolicy.Check.REQUEST_PROMPT;
      // The interaction that just finished checked all of this against the live session.
      if (koa.oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const auth = await twofoldSession(ctx, koa);
      if (!auth || auth.session.pending || auth.session.userId !== accountId) return interactionPolicy.Check.REQUEST_PROMPT;
      const loginMs = loginTimeOf(auth.session);
      const maxAge = koa.oidc.params?.max_age;
      if (maxAge !== undefined && ctx.clock.now() - loginMs > Number(maxAge) * 1000) return interactionPolicy.Check.REQUEST_PROMPT;
      if (clientRequires2fa(koa) && !hasSecondFactor(auth.session.amr)) return interactionPolicy.Check.REQUEST_PROMPT;
      // A re-authentication in Twofold since: auth_time and amr follow the live session.
      const session = koa.oidc.session as unknown as { loginTs?: number; amr?: string[] };
      const loginS = Math.floor(loginMs / 1000);
      if ((session.loginTs ?? 0) < loginS) {
        session.loginTs = loginS;
        session.amr = [...auth.session.amr];
      }
      return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  return base;
}

function configuration(ctx: Context, keys: object[]): Configuration {
  const firstPartyGrant = async (koa: KoaContextWithOIDC) => {
    const { client, session, provider } = koa.oidc;
    if (!client || !session?.accountId) return undefined;
    const grantId = koa.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) {
      const grant = await provider.Grant.find(grantId);
      if (grant && grant.accountId === session.accountId && grant.clientId === client.clientId) return grant;
    }
    // First-party clients need no consent; others get what the person allowed before (any browser).
    const remembered = client.metadata().first_party === true ? SCOPES : await findConsent(ctx.db, session.accountId, client.clientId);
    if (!remembered) return undefined;
    const grant = new provider.Grant({ accountId: session.accountId, clientId: client.clientId });
    grant.addOIDCScope(remembered.join(' '));
    if (client.metadata().first_party === true) {
      const claims = koa.oidc.requestParamClaims ? [...koa.oidc.requestParamClaims] : [];
      if (claims.length) grant.addOIDCClaims(claims);
    }
    await grant.save();
    return grant;
  };

  return {
    adapter: adapterFor(ctx),
    clients: [],
    findAccount: (_koa, sub) => oidcAccount(ctx, sub),
    claims: {
      acr: null,
      sid: null,
      // Listed under openid, not standalone: standalone claims appear only when a client asks for
      // them by name, and every ID token should say when and how the person signed in.
      openid: ['sub', 'auth_time', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    scopes: SCOPES,
    // Relying parties (Grafana, Gitea …) read the person's claims from the ID token too.
    conformIdTokenClaims: false,
    cookies: {
      keys: cookieKeys(ctx),
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    jwks: { keys: keys as never },
    enabledJWA: { idTokenSigningAlgValues: [...SIGNING_ALGS], userinfoSigningAlgValues: [...SIGNING_ALGS] },
    extraClientMetadata: {
      properties: ['first_party', 'require_2fa'],
      validator(_koa, key, value) {
        if (value !== undefined && typeof value !== 'boolean') throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
      },
    },
    clientDefaults: { id_token_signed_response_alg: 'RS256', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
    responseTypes: ['code'],
    // Browsers may read the token, userinfo and revocation answers from any page of a confidential
    // client (it proves itself with its secret) and from a public client's own redirect origins.
    clientBasedCORS: (_koa, origin, client) =>
      client.clientAuthMethod !== 'none' || (client.redirectUris ?? []).some((u) => URL.canParse(u) && new URL(u).origin === origin),
    pkce: { required: (_koa, client) => client.clientAuthMethod === 'none' },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (koa, form) => renderEndSessionPage(koa, form),
        postLogoutSuccessSource: async (koa) => renderSignedOutPage(koa),
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      introspection: { enabled: false },
      registration: { enabled: false },
      claimsParameter: { enabled: false },
    },
    interactions: {
      url: (_koa, interaction) => `${INTERACTION_PREFIX}${interaction.uid}`,
      policy: policy(ctx),
    },
    loadExistingGrant: firstPartyGrant,
    rotateRefreshToken: true,
    renderError: async (koa, out, error) => renderOidcErrorPage(koa, out, error),
    routes: {
      authorization: '/oidc/auth',
      token: '/oidc/token',
      userinfo: '/oidc/me',
      jwks: '/oidc/jwks',
      revocation: '/oidc/token/revocation',
      introspection: '/oidc/token/introspection',
      end_session: '/oidc/session/end',
      registration: '/oidc/reg',
      code_verification: '/oidc/device',
      device_authorization: '/oidc/device/auth',
      backchannel_authentication: '/oidc/backchannel',
      pushed_authorization_request: '/oidc/request',
      challenge: '/oidc/challenge',
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: ID_TOKEN_TTL_S,
      Interaction: 3600,
      Session: Math.ceil(ctx.config.sessionMaxMs / 1000),
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
  } as Configuration;
}

/** Builds a provider over the keys in the database now. */
async function buildProvider(ctx: Context, log: FastifyBaseLogger): Promise<Provider> {
  const keys = await loadSigningKeys(ctx);
  const provider = new Provider(issuerOf(ctx), configuration(ctx, keys));
  // Forwarded headers are rewritten from Fastify's own reading of TWOFOLD_TRUST_PROXY before the
  // provider sees a request (see index.ts), so the provider may take them as they come.
  provider.proxy = true;
  provider.on('server_error', (_koa, err) => log.error({ err: { message: err.message, name: err.name } }, 'oidc provider error'));
  // RP-initiated logout that the person confirms ends the Twofold session as well.
  provider.use(async (koa, next) => {
    await next();
    const oidc = (koa as KoaContextWithOIDC).oidc;
    if (oidc?.route === 'end_session_confirm' && koa.status === 303 && oidc.params?.logout) {
      const auth = await twofoldSession(ctx, koa as KoaContextWithOIDC);
      if (auth) await logout(ctx, auth.session, { ip: koa.ip || null, userAgent: koa.get('user-agent') || null });
      koa.cookies.set(cookieNames(ctx.config).session, null, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.secureCookies, overwrite: true });
    }
  });
  return provider;
}

export interface ProviderHolder {
  /** The provider over the current signing keys: rebuilt when `oidc rotate-keys` changed them. */
  current(): Promise<{ provider: Provider; handler: ReturnType<Provider['callback']> }>;
}

export async function createProviderHolder(ctx: Context, log: FastifyBaseLogger): Promise<ProviderHolder> {
  await ensureSigningKeys(ctx);
  let version = await keysVersion(ctx.db);
  let provider = await buildProvider(ctx, log);
  let handler = provider.callback();
  let building: Promise<void> | null = null;
  return {
    async current() {
      const now = await keysVersion(ctx.db);
      if (now !== version) {
        building ??= (async () => {
          const next = await buildProvider(ctx, log);
          provider = next;
          handler = next.callback();
          version = now;
        })().finally(() => {
          building = null;
        });
        await building;
      }
      return { provider, handler };
    },
  };
}
