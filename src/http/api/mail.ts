import { Type } from '@sinclair/typebox';
import type { Context } from '../../service/context.js';
import { openEmailLink, requestEmailChange, resendVerification } from '../../service/mail/email-address.js';
import { openResetLink, requestPasswordReset, resetPassword } from '../../service/mail/password-reset.js';
import { resetKeyOptions } from '../../service/mail/reset-security-key.js';
import { secureAccount } from '../../service/mail/secure-account.js';
import { authOf } from '../auth.js';
import { requestMeta } from '../request-meta.js';
import { Email, errors, NewPassword, Obj, type App } from '../schemas.js';

/** A link token as sent in mail: 32 random bytes, base64url. */
export const LinkToken = Type.String({ minLength: 1, maxLength: 128, description: 'the token from the link in the message' });

/** Per IP, forgot-password requests: a sixth of the per-minute auth budget, per 10 minutes. */
export function forgotRateLimit(authRateLimit: { max: number }) {
  return { max: Math.max(1, Math.ceil(authRateLimit.max / 6)), timeWindow: 10 * 60_000 };
}

/** SPEC §7: email verification, change of address, password reset, "This wasn't me". */
export function mailRoutes(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  app.post(
    '/me/email/verification',
    {
      config: { auth: 'user', rateLimit: authRateLimit },
      schema: {
        summary: 'Send the "Confirm your email address" message again',
        description: 'At most once a minute (429 with Retry-After); 409 already_verified when the address is confirmed.',
        tags: ['email'],
        response: { 202: Type.Null(), ...errors(400, 401, 409, 429) },
      },
    },
    async (request, reply) => {
      await resendVerification(ctx, authOf(request).session.userId, requestMeta(request));
      return reply.code(202).send(null);
    },
  );

  app.post(
    '/email/verify',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'Open a verification or change-of-address link',
        description: 'What GET /email/verify?token=… does for a browser. 400 invalid_token when the link is unknown, used or expired; 409 email_taken.',
        tags: ['email'],
        body: Obj({ token: LinkToken }),
        response: { 200: Type.Object({ status: Type.Union([Type.Literal('verified'), Type.Literal('changed')]), email: Type.String() }), ...errors(400, 409, 429) },
      },
    },
    async (request) => {
      const r = await openEmailLink(ctx, request.body.token, requestMeta(request));
      return { status: r.kind, email: r.email };
    },
  );

  app.post(
    '/me/email',
    {
      config: { auth: 'fresh', rateLimit: authRateLimit },
      schema: {
        summary: 'Change the email address',
        description: 'Needs a fresh authentication. Sends a link to the new address; the address changes only when it is opened, and the old address is told.',
        tags: ['email'],
        body: Obj({ email: Email }),
        response: { 202: Type.Object({ email: Type.String({ description: 'where the link went' }) }), ...errors(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const r = await requestEmailChange(ctx, authOf(request).session.userId, request.body.email, requestMeta(request));
      return reply.code(202).send(r);
    },
  );

  app.post(
    '/password/forgot',
    {
      config: { rateLimit: forgotRateLimit(authRateLimit) },
      schema: {
        summary: 'Send a password reset link',
        description:
          'Always 202 with the same body, in the same time, whether or not an account has the address. At most 3 messages per account per hour; limited per IP.',
        tags: ['password'],
        body: Obj({ email: Email }),
        response: { 202: Type.Object({ status: Type.Literal('sent'), message: Type.String() }), ...errors(400, 429) },
      },
    },
    async (request, reply) => {
      await requestPasswordReset(ctx, request.body.email, requestMeta(request));
      return reply.code(202).send({ status: 'sent' as const, message: 'If an account exists for that address, we sent it a link to reset the password. It works for 30 minutes.' });
    },
  );

  app.post(
    '/password/reset',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'Set a new password with a reset link',
        description:
          'With two-factor authentication on, also `method` and `code` (authenticator app or recovery code), checked under the account lock before anything changes. On success every session and trusted device of the account ends, and the address counts as verified. A refused request consumes nothing.',
        tags: ['password'],
        body: Obj({
          token: LinkToken,
          password: NewPassword,
          method: Type.Optional(Type.Union([Type.Literal('totp'), Type.Literal('recovery_code'), Type.Literal('webauthn')])),
          code: Type.Optional(Type.String({ maxLength: 64 })),
          response: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'with method webauthn: the security key’s answer to POST /password/reset/webauthn/options' })),
        }),
        response: { 204: Type.Null(), ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await resetPassword(ctx, { token: b.token, password: b.password, method: b.method, code: b.code, response: b.response }, requestMeta(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/password/reset/webauthn/options',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'WebAuthn request options for a password reset with a security key',
        description: 'The challenge is kept on the reset link (single use, 5 minutes). The token is in the query, so that the page script can ask without a body.',
        tags: ['password'],
        querystring: Obj({ token: LinkToken }),
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'PublicKeyCredentialRequestOptionsJSON' }), ...errors(400, 429) },
      },
    },
    async (request) => resetKeyOptions(ctx, await openResetLink(ctx, request.query.token)),
  );

  app.post(
    '/account/secure',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: '"This wasn\'t me": secure the account from a notice\'s link',
        description:
          'Ends every session, revokes every trusted device, removes the factor the notice announced as added, and makes the next login answer 403 password_reset_required (with a reset link sent).',
        tags: ['email'],
        body: Obj({ token: LinkToken }),
        response: { 204: Type.Null(), ...errors(400, 429) },
      },
    },
    async (request, reply) => {
      await secureAccount(ctx, request.body.token, requestMeta(request));
      return reply.code(204).send(null);
    },
  );
}
