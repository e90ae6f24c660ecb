import { Type } from '@sinclair/typebox';
import type { Context } from '../../service/context.js';
import { openEmailLink, requestEmailChange, resendVerification } from '../../service/mail/email-address.js';
import { authOf } from '../auth.js';
import { requestMeta } from '../request-meta.js';
import { Email, errors, Obj, type App } from '../schemas.js';

/** A link token as sent in mail: 32 random bytes, base64url. */
export const LinkToken = Type.String({ minLength: 1, maxLength: 128, description: 'the token from the link in the message' });

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
}
