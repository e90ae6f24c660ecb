import { Type } from '@sinclair/typebox';
import { countSecondFactor } from '../../service/metrics.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import type { Context } from '../../service/context.js';
import { PASSKEY_CEREMONY_TTL_MS, passkeySignInOptions, signInWithPasskey } from '../../service/passkeys.js';
import { addSecurityKey, registrationOptions, renameKey } from '../../service/security-keys.js';
import { authOf, loadAuth } from '../auth.js';
import { readCookie, setCookie } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import { errors, Obj, type App } from '../schemas.js';
import { applyLoginCookies } from './two-factor.js';
import { AuthenticationResponse, CreationOptions, KeyView, RegistrationResponse, RequestOptions } from './security-keys.js';

/** The cookie that binds a passwordless sign-in's challenges to the browser that asked for them. */
export function passkeyCookieName(config: Config): string {
  return `${config.secureCookies ? '__Host-' : ''}twofold_passkey`;
}

/** Issues request options and (re)sets the ceremony cookie; shared by the API and the login page. */
export async function issuePasskeyOptions(ctx: Context, request: FastifyRequest, reply: FastifyReply) {
  const name = passkeyCookieName(ctx.config);
  const { options, ceremonyToken } = await passkeySignInOptions(ctx, readCookie(request, name));
  setCookie(reply, ctx.config, name, ceremonyToken, PASSKEY_CEREMONY_TTL_MS);
  return options;
}

/** Checks a passkey answer and, when it signs in, sets the new session cookie. */
export async function completePasskeySignIn(ctx: Context, request: FastifyRequest, reply: FastifyReply, response: unknown): Promise<void> {
  const previous = await loadAuth(ctx, request);
  applyLoginCookies(reply, ctx, await countSecondFactor('passkey', signInWithPasskey(ctx, readCookie(request, passkeyCookieName(ctx.config)), response, requestMeta(request), previous?.session.id)));
}

/** Passkeys (SPEC §10): passwordless sign-in, adding a passkey, renaming any key. */
export function passkeyRoutes(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  app.post(
    '/login/passkey/options',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'Start signing in with a passkey',
        description:
          'WebAuthn request options with no allowed-credential list and user verification required (give them to startAuthentication, also with useBrowserAutofill). The challenge is bound to this browser by a short-lived HttpOnly cookie, single-use, and dies after 5 minutes.',
        tags: ['login'],
        response: { 200: RequestOptions, ...errors(400, 429) },
      },
    },
    async (request, reply) => issuePasskeyOptions(ctx, request, reply),
  );

  app.post(
    '/login/passkey',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'Sign in with a passkey',
        description:
          'Verifies the answer to POST /login/passkey/options. The passkey with its user verification counts as both factors: the new session is complete and fresh. 401 unknown_passkey when the credential is not registered (the browser may be told to forget it), invalid_passkey when it is refused (no user verification, a security key, a bad signature), passkey_request_expired when no request is waiting.',
        tags: ['login'],
        body: Obj({ response: AuthenticationResponse }),
        response: { 200: Type.Object({ status: Type.Literal('ok') }), ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      await completePasskeySignIn(ctx, request, reply, request.body.response);
      return { status: 'ok' as const };
    },
  );

  app.post(
    '/me/passkeys/options',
    {
      config: { auth: 'fresh', rateLimit: authRateLimit },
      schema: {
        summary: 'Start adding a passkey',
        description:
          'WebAuthn creation options for a discoverable credential with user verification required. The challenge is bound to this session, single-use, and dies after 5 minutes.',
        tags: ['security-keys'],
        response: { 200: CreationOptions, ...errors(401, 403) },
      },
    },
    async (request) => registrationOptions(ctx, authOf(request), 'passkey'),
  );

  app.post(
    '/me/passkeys',
    {
      config: { auth: 'fresh', rateLimit: authRateLimit },
      schema: {
        summary: 'Add a passkey',
        description:
          'Verifies the browser’s answer (user verification required) and stores the passkey. Without a name it is named after the authenticator model (from its AAGUID), or “Passkey”. A passkey is also a second factor: the first one while two-factor authentication is off turns it on and returns the 10 recovery codes.',
        tags: ['security-keys'],
        body: Obj({ name: Type.Optional(Type.String({ maxLength: 256, description: '1–64 characters once trimmed; empty or absent: named after the model' })), response: RegistrationResponse }),
        response: {
          201: Type.Object({
            id: Type.String(),
            kind: Type.Literal('passkey'),
            name: Type.String(),
            recoveryCodes: Type.Optional(Type.Array(Type.String(), { minItems: 10, maxItems: 10, description: 'only when this passkey turned two-factor authentication on' })),
          }),
          ...errors(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const added = await addSecurityKey(ctx, authOf(request).session, { name: request.body.name ?? '', response: request.body.response }, requestMeta(request), 'passkey');
      return reply.code(201).send({ ...added, kind: 'passkey' as const });
    },
  );

  app.patch(
    '/me/security-keys/:id',
    {
      config: { auth: 'user' },
      schema: {
        summary: 'Rename a passkey or security key',
        tags: ['security-keys'],
        params: Obj({ id: Type.String({ maxLength: 64 }) }),
        body: Obj({ name: Type.String({ maxLength: 256, description: '1–64 characters once trimmed, unique per account regardless of case' }) }),
        response: { 200: KeyView, ...errors(400, 401, 404, 409) },
      },
    },
    async (request) => renameKey(ctx, authOf(request).session.userId, request.params.id, request.body, requestMeta(request)),
  );
}
