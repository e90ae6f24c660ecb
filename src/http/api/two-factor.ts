import { Type } from '@sinclair/typebox';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { changePassword } from '../../service/password-change.js';
import { recoveryCodesFile, regenerateRecoveryCodes, viewRecoveryCodes } from '../../service/recovery-codes.js';
import { loginWithSecurityKey, reauthenticateWithSecurityKey } from '../../service/security-keys.js';
import { listDevices, revokeDevice } from '../../service/trusted-devices.js';
import { completeTwoFactorLogin, reauthenticate, type TwoFactorLoginResult } from '../../service/two-factor-login.js';
import { confirmTotpSetup, disableTwoFactor, startTotpSetup } from '../../service/two-factor.js';
import { authOf } from '../auth.js';
import { clearCookie, cookieNames, readCookie, setCookie } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import { errors, NewPassword, Obj, Password, type App } from '../schemas.js';
import type { FastifyReply } from 'fastify';
import { TRUSTED_DEVICE_MS } from '../../core/trusted-device.js';
import { KNOWN_DEVICE_MAX_AGE_MS } from '../../service/password-throttle.js';

const Code = Type.String({ maxLength: 128, description: '6-digit app code, or a recovery code (case, spaces and dashes ignored)' });
const CodeMethod = Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')]);
const RecoveryCodes = Type.Object({ recoveryCodes: Type.Array(Type.String(), { minItems: 10, maxItems: 10 }) });
const IdParam = Obj({ id: Type.String({ maxLength: 64 }) });
const TrustedDevice = Type.Object({
  id: Type.String(),
  label: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  current: Type.Boolean(),
});

export const TwoFactorLoginBody = Obj({
  method: Type.Union([Type.Literal('totp'), Type.Literal('recovery_code'), Type.Literal('webauthn')]),
  code: Type.Optional(Code),
  response: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'WebAuthn assertion (method webauthn)' })),
  trustDevice: Type.Optional(Type.Boolean({ description: 'remember this browser for 30 days' })),
});

/**
 * Sets the cookies every finished login carries (password, second factor, passkey): the new
 * session, the browser's recognition and, if asked for, the trusted device.
 */
export function applyLoginCookies(reply: FastifyReply, ctx: Context, result: Pick<TwoFactorLoginResult, 'token' | 'knownDevice' | 'device'>): void {
  const names = cookieNames(ctx.config);
  setCookie(reply, ctx.config, names.session, result.token, ctx.config.sessionMaxMs);
  setCookie(reply, ctx.config, names.known, result.knownDevice, KNOWN_DEVICE_MAX_AGE_MS);
  if (result.device) setCookie(reply, ctx.config, names.device, result.device.token, TRUSTED_DEVICE_MS);
}

export function twoFactorRoutes(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);

  app.post(
    '/login/two-factor',
    {
      config: { auth: 'pending', rateLimit: authRateLimit },
      schema: {
        summary: 'Second step of a login',
        description: 'Completes a pending login with an app code, a recovery code or a security key, and issues a new session.',
        tags: ['login'],
        body: TwoFactorLoginBody,
        response: {
          200: Type.Object({ status: Type.Literal('ok'), recoveryCodesRemaining: Type.Optional(Type.Integer()) }),
          ...errors(400, 401, 429),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const pending = authOf(request);
      let result: TwoFactorLoginResult;
      if (body.method === 'webauthn') {
        if (body.response === undefined) throw new AppError(400, 'invalid_request', 'Send the security key’s answer as `response`.');
        result = await loginWithSecurityKey(ctx, pending, { response: body.response, trustDevice: body.trustDevice }, requestMeta(request));
      } else {
        if (body.code === undefined) throw new AppError(400, 'invalid_request', 'Send the code as `code`.', {}, 'code');
        result = await completeTwoFactorLogin(ctx, pending, { method: body.method, code: body.code, trustDevice: body.trustDevice }, requestMeta(request));
      }
      applyLoginCookies(reply, ctx, result);
      return { status: 'ok' as const, ...(result.recoveryCodesRemaining !== undefined ? { recoveryCodesRemaining: result.recoveryCodesRemaining } : {}) };
    },
  );

  app.post(
    '/me/reauthenticate',
    {
      config: { auth: 'user', rateLimit: authRateLimit },
      schema: {
        summary: 'Prove it is you again before a sensitive change',
        description: 'The password, and a second factor when two-factor authentication is on. Makes the session fresh for 10 minutes.',
        tags: ['account'],
        body: Obj({
          password: Password,
          method: Type.Optional(Type.Union([CodeMethod, Type.Literal('webauthn')])),
          code: Type.Optional(Code),
          response: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'WebAuthn assertion (method webauthn), after POST /me/reauthenticate/webauthn/options' })),
        }),
        response: { 204: Type.Null(), ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const { password, method, code, response } = request.body;
      if (method === 'webauthn') {
        if (response === undefined) throw new AppError(400, 'invalid_request', 'Send the security key’s answer as `response`.');
        await reauthenticateWithSecurityKey(ctx, authOf(request).session, { password, response }, requestMeta(request));
      } else {
        await reauthenticate(ctx, authOf(request).session, { password, method, code }, requestMeta(request));
      }
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/me/password',
    {
      config: { auth: 'fresh', rateLimit: authRateLimit },
      schema: {
        summary: 'Change the password',
        description: 'Ends every other session and revokes every trusted device.',
        tags: ['account'],
        body: Obj({ currentPassword: Password, newPassword: NewPassword }),
        response: { 204: Type.Null(), ...errors(400, 401, 403) },
      },
    },
    async (request, reply) => {
      await changePassword(ctx, authOf(request).session, request.body, requestMeta(request));
      clearCookie(reply, ctx.config, names.device);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/me/two-factor/totp/setup',
    {
      config: { auth: 'fresh' },
      schema: {
        summary: 'Start setting up an authenticator app',
        description:
          'Returns a new secret; nothing changes until /confirm gets a valid code. A second call replaces the pending secret. Needs a fresh authentication (binding a new authenticator is a sensitive change).',
        tags: ['two-factor'],
        response: {
          200: Type.Object({ secret: Type.String(), otpauthUri: Type.String(), qrCodeSvg: Type.String() }),
          ...errors(401, 403, 409),
        },
      },
    },
    async (request) => {
      const { session, email } = authOf(request);
      return startTotpSetup(ctx, session, email);
    },
  );

  app.post(
    '/me/two-factor/totp/confirm',
    {
      config: { auth: 'fresh', rateLimit: authRateLimit },
      schema: {
        summary: 'Turn the authenticator app on with its first code',
        description: 'Needs a fresh authentication, and does not make the session any fresher: the code proves the new app, not the person.',
        tags: ['two-factor'],
        body: Obj({ code: Code }),
        response: { 200: RecoveryCodes, ...errors(400, 401, 403, 409) },
      },
    },
    async (request) => {
      const recoveryCodes = await confirmTotpSetup(ctx, authOf(request).session, request.body.code, requestMeta(request));
      return { recoveryCodes };
    },
  );

  app.delete(
    '/me/two-factor',
    {
      config: { auth: 'fresh', rateLimit: authRateLimit },
      schema: {
        summary: 'Disable two-factor authentication',
        description: 'Removes the app secret, all security keys, all recovery codes and all trusted devices, and ends every other session.',
        tags: ['two-factor'],
        body: Obj({ password: Password }),
        response: { 204: Type.Null(), ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      await disableTwoFactor(ctx, authOf(request).session, request.body.password, requestMeta(request));
      clearCookie(reply, ctx.config, names.device);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me/two-factor/recovery-codes',
    {
      config: { auth: 'fresh' },
      schema: {
        summary: 'View the recovery codes, used ones marked',
        tags: ['two-factor'],
        response: {
          200: Type.Object({ codes: Type.Array(Type.Object({ code: Type.String(), used: Type.Boolean() })), remaining: Type.Integer() }),
          ...errors(401, 403, 409),
        },
      },
    },
    async (request) => {
      const view = await viewRecoveryCodes(ctx, authOf(request).session.userId, requestMeta(request));
      return { codes: view.codes, remaining: view.remaining };
    },
  );

  app.get(
    '/me/two-factor/recovery-codes.txt',
    {
      config: { auth: 'fresh' },
      schema: { summary: 'Download the recovery codes as a text file', tags: ['two-factor'], produces: ['text/plain'], response: errors(401, 403, 409) },
    },
    async (request, reply) => {
      const { session, email } = authOf(request);
      const view = await viewRecoveryCodes(ctx, session.userId, requestMeta(request));
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', 'attachment; filename="twofold-recovery-codes.txt"')
        .send(recoveryCodesFile(ctx, email, view));
    },
  );

  app.post(
    '/me/two-factor/recovery-codes',
    {
      config: { auth: 'fresh' },
      schema: { summary: 'Regenerate the recovery codes; every old code dies', tags: ['two-factor'], response: { 200: RecoveryCodes, ...errors(401, 403, 409) } },
    },
    async (request) => ({ recoveryCodes: await regenerateRecoveryCodes(ctx, authOf(request).session.userId, requestMeta(request)) }),
  );

  app.get(
    '/me/trusted-devices',
    {
      config: { auth: 'user' },
      schema: { summary: 'Browsers that skip the second factor', tags: ['two-factor'], response: { 200: Type.Array(TrustedDevice), ...errors(401) } },
    },
    async (request) => listDevices(ctx, authOf(request).session.userId, readCookie(request, names.device)),
  );

  app.delete(
    '/me/trusted-devices/:id',
    {
      config: { auth: 'fresh' },
      schema: { summary: 'Revoke a trusted device', tags: ['two-factor'], params: IdParam, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
    },
    async (request, reply) => {
      await revokeDevice(ctx, authOf(request).session.userId, request.params.id, requestMeta(request));
      return reply.code(204).send(null);
    },
  );
}
