import { Type } from '@sinclair/typebox';
import { cancelRecoveryByLink, confirmRecovery, currentRecovery, startRecovery, type RecoveryView } from '../../service/account-recovery.js';
import type { Context } from '../../service/context.js';
import { authOf } from '../auth.js';
import { requestMeta } from '../request-meta.js';
import { errors, Obj, type App } from '../schemas.js';

const Time = Type.String({ format: 'date-time' });
const recoveryProps = {
    id: Type.String(),
    state: Type.Union(
      ['awaiting_confirmation', 'confirmation_expired', 'waiting', 'ready', 'cancelled', 'completed'].map((s) => Type.Literal(s)),
      { description: 'awaiting_confirmation: the mailed link was not opened yet; waiting: until dueAt; ready: the next password login completes it' },
    ),
    requestedAt: Time,
    confirmExpiresAt: Time,
    dueAt: Type.Union([Time, Type.Null()]),
    endedAt: Type.Union([Time, Type.Null()]),
    cancelReason: Type.Union([Type.String(), Type.Null()]),
};
const Recovery = Type.Object(recoveryProps, { $id: 'AccountRecovery' });
/** The same shape without the shared id, for routes registered outside this plugin (admin). */
export const RecoveryInline = Type.Object(recoveryProps);
const TokenBody = Obj({ token: Type.String({ maxLength: 128, description: 'the token of the mailed link' }) });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
export const recoveryJson = (r: RecoveryView) => ({
  id: r.id,
  state: r.state,
  requestedAt: iso(r.requestedAt)!,
  confirmExpiresAt: iso(r.confirmExpiresAt)!,
  dueAt: iso(r.dueAt),
  endedAt: iso(r.endedAt),
  cancelReason: r.cancelReason,
});

/** SPEC §12: delayed self-service recovery for a person who lost every second factor. */
export function accountRecoveryRoutes(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  app.addSchema(Recovery);
  const RecoveryRef = Type.Ref('AccountRecovery');

  app.post(
    '/login/recovery',
    {
      config: { auth: 'pending', rateLimit: authRateLimit },
      schema: {
        summary: 'Start an account recovery',
        description:
          'From a pending login (the password was just verified). Mails a confirmation link to the account; opening it starts a wait of TWOFOLD_RECOVERY_DELAY, after which the next password login removes every second factor. Any second-factor sign-in meanwhile cancels it. At most one at a time and three in 30 days.',
        tags: ['recovery'],
        response: { 202: Type.Object({ recovery: RecoveryRef }), ...errors(401, 409, 429) },
      },
    },
    async (request, reply) => {
      const r = await startRecovery(ctx, authOf(request).session.userId, requestMeta(request));
      return reply.code(202).send({ recovery: recoveryJson(r) });
    },
  );

  app.get(
    '/me/recovery',
    {
      config: { auth: 'any' },
      schema: {
        summary: 'The account recovery of this account',
        description: 'The newest one, in whatever state, or null. Also answers a pending login, since a person in recovery has no second factor to finish one.',
        tags: ['recovery'],
        response: { 200: Type.Object({ recovery: Type.Union([RecoveryRef, Type.Null()]) }), ...errors(401) },
      },
    },
    async (request) => {
      const r = await currentRecovery(ctx, authOf(request).session.userId);
      return { recovery: r ? recoveryJson(r) : null };
    },
  );

  app.post(
    '/recovery/confirm',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'Confirm an account recovery (the mailed link)',
        tags: ['recovery'],
        body: TokenBody,
        response: { 200: Type.Object({ recovery: RecoveryRef }), ...errors(400, 429) },
      },
    },
    async (request) => ({ recovery: recoveryJson(await confirmRecovery(ctx, request.body.token, requestMeta(request))) }),
  );

  app.post(
    '/recovery/cancel',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        summary: 'Cancel an account recovery (the link in its mails)',
        tags: ['recovery'],
        body: TokenBody,
        response: { 204: Type.Null(), ...errors(400, 429) },
      },
    },
    async (request, reply) => {
      await cancelRecoveryByLink(ctx, request.body.token, requestMeta(request));
      return reply.code(204).send(null);
    },
  );
}
