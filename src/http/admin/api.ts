import { Type } from '@sinclair/typebox';
import {
  auditLog,
  deleteAccount,
  getAccount,
  lockAccount,
  resetAccountTwoFactor,
  searchAccounts,
  setAccountGroups,
  signOutEverywhere,
  unlockAccount,
  approveAccountRecovery,
  cancelAccountRecovery,
} from '../../service/admin/actions.js';
import { listOpenRecoveries } from '../../service/account-recovery.js';
import { RecoveryInline, recoveryJson } from '../api/account-recovery.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { errors, Method, Obj, type App } from '../schemas.js';
import { actorOf, adminActor } from './guard.js';

const AdminUser = Type.Object({
  id: Type.String(),
  email: Type.String(),
  groups: Type.Array(Type.String()),
  twoFactor: Type.Object({ enabled: Type.Boolean(), methods: Type.Array(Method) }),
  lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  locked: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String({ description: 'the administrator’s email, the token’s name, or "twofold CLI"' }),
  actorKind: Type.Union([Type.Literal('session'), Type.Literal('token'), Type.Literal('cli')]),
  action: Type.String({ description: 'lock, unlock, reset_2fa, revoke_sessions, set_groups or delete' }),
  targetUserId: Type.Union([Type.String(), Type.Null()]),
  targetEmail: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])), Type.Null()]),
});

const Limit = Type.String({ pattern: '^[0-9]{1,3}$', description: '1–100, default 50' });
const UserId = Obj({ id: Type.String({ maxLength: 64 }) });
const ADMIN_ERRORS = [401, 403] as const;

export function parseLimit(text: string | undefined): number {
  const limit = text === undefined ? 50 : Number(text);
  if (limit < 1 || limit > 100) throw new AppError(400, 'invalid_request', '`limit` must be from 1 to 100.');
  return limit;
}

export function parseBeforeTime(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new AppError(400, 'invalid_request', '`before` must be an ISO 8601 time or epoch milliseconds.');
  return ms;
}

/**
 * /api/v1/admin (SPEC §9): an admin session (2FA on, fresh) or `Authorization: Bearer <admin token>`.
 * The Origin check of every state-changing request still applies to both; a bearer request needs no
 * CSRF token, since no cookie is involved.
 */
export async function adminApi(app: App, opts: { ctx: Context }): Promise<void> {
  const { ctx } = opts;
  app.addHook('preHandler', async (request) => {
    request.adminActor = await adminActor(ctx, request, { bearer: true });
  });
  const tags = ['admin'];
  const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

  app.get(
    '/users',
    {
      schema: {
        summary: 'Search accounts by email',
        description: 'Newest accounts first. Pass the `id` of the last account of a page as `before` for the next page.',
        tags,
        security,
        querystring: Obj({
          q: Type.Optional(Type.String({ maxLength: 320, description: 'part of an email address' })),
          limit: Type.Optional(Limit),
          before: Type.Optional(Type.String({ maxLength: 64, description: 'id of the last account of the previous page' })),
        }),
        response: { 200: Type.Array(AdminUser), ...errors(400, ...ADMIN_ERRORS) },
      },
    },
    async (request) => searchAccounts(ctx, { q: request.query.q ?? '', limit: parseLimit(request.query.limit), before: request.query.before || undefined }),
  );

  app.get(
    '/users/:id',
    { schema: { summary: 'One account', tags, security, params: UserId, response: { 200: AdminUser, ...errors(...ADMIN_ERRORS, 404) } } },
    async (request) => getAccount(ctx, request.params.id),
  );

  app.get(
    '/recoveries',
    {
      schema: {
        summary: 'Account recoveries under way',
        description: 'Every self-service account recovery (SPEC §12) that is awaiting confirmation, waiting or ready, oldest first.',
        tags,
        security,
        response: { 200: Type.Array(Type.Object({ userId: Type.String(), email: Type.String(), recovery: RecoveryInline })), ...errors(...ADMIN_ERRORS) },
      },
    },
    async () => (await listOpenRecoveries(ctx)).map((r) => ({ userId: r.userId, email: r.email, recovery: recoveryJson(r) })),
  );

  const actions: [string, string, string, (id: string, actor: ReturnType<typeof actorOf>) => Promise<unknown>][] = [
    ['lock', 'Lock the account', 'A locked account cannot sign in (403 account_locked); its sessions and trusted devices end now.', (id, a) => lockAccount(ctx, a, id)],
    ['unlock', 'Unlock the account', 'The person can sign in again.', (id, a) => unlockAccount(ctx, a, id)],
    ['reset-2fa', 'Reset two-factor authentication', 'Removes the authenticator app, security keys, recovery codes and trusted devices.', (id, a) => resetAccountTwoFactor(ctx, a, id)],
    ['revoke-sessions', 'Sign out everywhere', 'Ends every session and trusted device of the account.', (id, a) => signOutEverywhere(ctx, a, id)],
    ['cancel-recovery', 'Cancel the account recovery', 'Cancels the self-service account recovery under way (SPEC §12); 404 when there is none.', (id, a) => cancelAccountRecovery(ctx, a, id)],
    [
      'approve-recovery',
      'Approve the account recovery now',
      'Ends the waiting period of a confirmed account recovery at once; the person finishes it by logging in with the password. 409 recovery_not_confirmed before the mailed link was opened.',
      (id, a) => approveAccountRecovery(ctx, a, id),
    ],
  ];
  for (const [path, summary, description, run] of actions) {
    app.post(
      `/users/:id/${path}`,
      { schema: { summary, description, tags, security, params: UserId, response: { 204: Type.Null(), ...errors(...ADMIN_ERRORS, 404, 409) } } },
      async (request, reply) => {
        await run(request.params.id, actorOf(request));
        return reply.code(204).send(null);
      },
    );
  }

  app.put(
    '/users/:id/groups',
    {
      schema: {
        summary: 'Set the account’s groups',
        description: 'Replaces the groups with exactly these. Group changes apply to live sessions at their next request.',
        tags,
        security,
        params: UserId,
        body: Obj({ groups: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 }) }),
        response: { 200: Type.Object({ groups: Type.Array(Type.String()) }), ...errors(400, ...ADMIN_ERRORS, 404) },
      },
    },
    async (request) => ({ groups: await setAccountGroups(ctx, actorOf(request), request.params.id, request.body.groups) }),
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        summary: 'Delete the account',
        description: 'Everything of the account is removed; the audit log keeps the record.',
        tags,
        security,
        params: UserId,
        response: { 204: Type.Null(), ...errors(...ADMIN_ERRORS, 404) },
      },
    },
    async (request, reply) => {
      await deleteAccount(ctx, actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/audit-log',
    {
      schema: {
        summary: 'The admin audit log, newest first, one page',
        description: 'Pass the `at` of the last entry as `before` for the next page. A page never ends inside a millisecond.',
        tags,
        security,
        querystring: Obj({ limit: Type.Optional(Limit), before: Type.Optional(Type.String({ maxLength: 40 })) }),
        response: { 200: Type.Array(AuditEntry), ...errors(400, ...ADMIN_ERRORS) },
      },
    },
    async (request) =>
      (await auditLog(ctx, parseLimit(request.query.limit), parseBeforeTime(request.query.before))).map((e) => ({
        id: e.id,
        at: new Date(e.at).toISOString(),
        actor: e.actor,
        actorKind: e.actorKind as 'session' | 'token' | 'cli',
        action: e.action,
        targetUserId: e.targetUserId,
        targetEmail: e.targetEmail,
        ip: e.ip,
        detail: e.detail,
      })),
  );
}
