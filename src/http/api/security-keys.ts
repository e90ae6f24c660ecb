import { Type } from '@sinclair/typebox';
import type { Context } from '../../service/context.js';
import { addSecurityKey, listKeys, loginOptions, reauthenticationOptions, registrationOptions, removeSecurityKey } from '../../service/security-keys.js';
import { authOf } from '../auth.js';
import { clearCookie, cookieNames } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import { errors, Obj, type App } from '../schemas.js';

const B64url = Type.String({ maxLength: 32 * 1024, description: 'base64url' });

/** What @simplewebauthn/browser's startRegistration() returns; extra fields are the browser's. */
export const RegistrationResponse = Type.Object(
  {
    id: B64url,
    rawId: B64url,
    type: Type.Literal('public-key'),
    response: Type.Object({ clientDataJSON: B64url, attestationObject: B64url }, { additionalProperties: true }),
  },
  { additionalProperties: true, description: 'the JSON of startRegistration() from @simplewebauthn/browser' },
);

/** What @simplewebauthn/browser's startAuthentication() returns. */
export const AuthenticationResponse = Type.Object(
  {
    id: B64url,
    rawId: B64url,
    type: Type.Literal('public-key'),
    response: Type.Object({ clientDataJSON: B64url, authenticatorData: B64url, signature: B64url }, { additionalProperties: true }),
  },
  { additionalProperties: true, description: 'the JSON of startAuthentication() from @simplewebauthn/browser' },
);

export const CreationOptions = Type.Object(
  {
    challenge: Type.String(),
    rp: Type.Object({ id: Type.Optional(Type.String()), name: Type.String() }, { additionalProperties: true }),
    user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }, { additionalProperties: true }),
  },
  { additionalProperties: true, description: 'PublicKeyCredentialCreationOptionsJSON: give it to startRegistration({ optionsJSON })' },
);

export const RequestOptions = Type.Object(
  { challenge: Type.String() },
  { additionalProperties: true, description: 'PublicKeyCredentialRequestOptionsJSON: give it to startAuthentication({ optionsJSON })' },
);

export const KeyView = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('security_key'), Type.Literal('passkey')], { description: 'a passkey also signs in without a password; both are second factors' }),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function securityKeyRoutes(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);

  app.post(
    '/me/security-keys/options',
    {
      config: { auth: 'fresh', rateLimit: authRateLimit },
      schema: {
        summary: 'Start adding a security key',
        description: 'WebAuthn creation options for the browser. The challenge is bound to this session, single-use, and dies after 5 minutes.',
        tags: ['security-keys'],
        response: { 200: CreationOptions, ...errors(401, 403) },
      },
    },
    async (request) => registrationOptions(ctx, authOf(request)),
  );

  app.post(
    '/me/security-keys',
    {
      config: { auth: 'fresh', rateLimit: authRateLimit },
      schema: {
        summary: 'Add a security key',
        description:
          'Verifies the browser’s answer to the options and stores the key under a name (1–64 characters, unique per account). The first key while two-factor authentication is off turns it on and returns the 10 recovery codes.',
        tags: ['security-keys'],
        body: Obj({ name: Type.String({ maxLength: 256, description: '1–64 characters once trimmed' }), response: RegistrationResponse }),
        response: {
          201: Type.Object({
            id: Type.String(),
            kind: Type.Literal('security_key'),
            name: Type.String(),
            recoveryCodes: Type.Optional(Type.Array(Type.String(), { minItems: 10, maxItems: 10, description: 'only when this key turned two-factor authentication on' })),
          }),
          ...errors(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const added = await addSecurityKey(ctx, authOf(request).session, request.body, requestMeta(request));
      return reply.code(201).send({ ...added, kind: 'security_key' as const });
    },
  );

  app.get(
    '/me/security-keys',
    {
      config: { auth: 'user' },
      schema: { summary: 'The account’s passkeys and security keys, in one list', tags: ['security-keys'], response: { 200: Type.Array(KeyView), ...errors(401) } },
    },
    async (request) => listKeys(ctx, authOf(request).session.userId),
  );

  app.delete(
    '/me/security-keys/:id',
    {
      config: { auth: 'fresh' },
      schema: {
        summary: 'Remove a passkey or security key',
        description: 'Removing the last key of an account without an authenticator app turns two-factor authentication off (recovery codes and trusted devices go too).',
        tags: ['security-keys'],
        params: Obj({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { twoFactorDisabled } = await removeSecurityKey(ctx, authOf(request).session.userId, request.params.id, requestMeta(request));
      if (twoFactorDisabled) clearCookie(reply, ctx.config, names.device);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/login/two-factor/webauthn/options',
    {
      config: { auth: 'pending', rateLimit: authRateLimit },
      schema: {
        summary: 'Start the second step of a login with a security key',
        description: 'WebAuthn request options for the account’s keys; answer with POST /login/two-factor {method: "webauthn", response}.',
        tags: ['login'],
        response: { 200: RequestOptions, ...errors(400, 401) },
      },
    },
    async (request) => loginOptions(ctx, authOf(request)),
  );

  app.post(
    '/me/reauthenticate/webauthn/options',
    {
      config: { auth: 'user', rateLimit: authRateLimit },
      schema: {
        summary: 'Start confirming it is you with a security key',
        description: 'WebAuthn request options; answer with POST /me/reauthenticate {password, method: "webauthn", response}.',
        tags: ['account'],
        response: { 200: RequestOptions, ...errors(400, 401) },
      },
    },
    async (request) => reauthenticationOptions(ctx, authOf(request)),
  );
}
