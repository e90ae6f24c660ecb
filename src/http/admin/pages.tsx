import { openRecoveryFor, type RecoveryView } from '../../service/account-recovery.js';
import { approveAccountRecovery, cancelAccountRecovery } from '../../service/admin/actions.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
  type Actor,
  type AdminUserView,
} from '../../service/admin/actions.js';
import type { AuditEntry } from '../../store/admin-audit.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import type { App } from '../schemas.js';
import { Button, Field, Form, FormAlert, readForm } from '../pages/forms.js';
import { Badge, Card, Layout, Notice, PageHeading } from '../pages/layout.js';
import { pageBase } from '../pages/page-context.js';
import { sendPage } from '../pages/render.js';
import { toReauthenticate } from '../pages/second-factor-fields.js';
import { formatTime } from '../pages/security-log-view.js';
import { adminActor } from './guard.js';

const PAGE = 25;
const METHOD_WORDS: Record<string, string> = { totp: 'Authenticator app', webauthn: 'Security key', recovery_code: 'Recovery codes' };

const NOTICES: Record<string, string> = {
  locked: 'The account is locked. Its sessions and trusted devices ended.',
  unlocked: 'The account is unlocked.',
  reset: 'Two-factor authentication was reset. The person can log in with the password and set it up again.',
  signed_out: 'The account was signed out everywhere.',
  recovery_cancelled: 'The account recovery was cancelled; the person was told by email.',
  recovery_approved: 'The waiting period was ended; the person finishes the recovery by logging in with the password.',
  groups: 'The groups were saved.',
  deleted: 'The account was deleted.',
};

const ACTION_WORDS: Record<string, string> = {
  lock: 'Locked the account',
  unlock: 'Unlocked the account',
  reset_2fa: 'Reset two-factor authentication',
  revoke_sessions: 'Signed the account out everywhere',
  set_groups: 'Changed the groups',
  delete: 'Deleted the account',
};

function notice(query: unknown): string | undefined {
  const word = (query as Record<string, unknown>).notice;
  return typeof word === 'string' && Object.hasOwn(NOTICES, word) ? NOTICES[word] : undefined;
}

function twoFactorWords(u: AdminUserView): string {
  return u.twoFactor.enabled ? u.twoFactor.methods.map((m) => METHOD_WORDS[m] ?? m).join(', ') : 'Off';
}

interface AdminPageBase {
  csrf: string;
  email: string;
  actor: Actor;
}

/**
 * The admin checks for a page: not signed in → login; not an admin → 403; no 2FA → 403 with the
 * reason; not fresh → "Confirm it's you", back here afterwards. Null when a redirect was sent.
 */
async function adminPage(ctx: Context, request: FastifyRequest, reply: FastifyReply, back: string): Promise<AdminPageBase | null> {
  const base = await pageBase(ctx, request, reply);
  try {
    const actor = await adminActor(ctx, request, { bearer: false });
    return { csrf: base.csrf, email: base.auth?.email ?? '', actor };
  } catch (err) {
    if (err instanceof AppError && err.code === 'reauthentication_required') {
      toReauthenticate(reply, back);
      return null;
    }
    throw err;
  }
}

function UserFacts({ u }: { u: AdminUserView }) {
  return (
    <p class="item-meta">
      <span>2FA: {twoFactorWords(u)}</span>
      <span>Groups: {u.groups.length ? u.groups.join(', ') : 'none'}</span>
      <span>Last sign-in: {u.lastLoginAt ? formatTime(Date.parse(u.lastLoginAt)) : 'never'}</span>
    </p>
  );
}

export function UsersPage(p: { csrf: string; email: string; q: string; users: AdminUserView[]; next?: string | undefined; notice?: string | undefined }) {
  return (
    <Layout title="Users" user={{ email: p.email }} csrf={p.csrf} width="wide">
      <PageHeading title="Users" lead="Search accounts, and help people who are locked out." />
      {p.notice ? <Notice kind="success">{p.notice}</Notice> : null}
      <form method="get" action="/admin" class="form" role="search">
        <Field name="q" label="Email" type="text" value={p.q} autocomplete="off" spellcheck={false} autocapitalize="none" maxLength={320} />
        <div class="actions actions-compact">
          <Button variant="secondary">Search</Button>
          <a class="button button-secondary" href="/admin/audit-log">
            Audit log
          </a>
        </div>
      </form>
      <Card heading="Accounts" id="accounts">
        {p.users.length === 0 ? (
          <p class="empty">No accounts{p.q ? ' match this search' : ''}.</p>
        ) : (
          <ul class="item-list">
            {p.users.map((u) => (
              <li class="item">
                <div class="item-main">
                  <p class="item-title">
                    <a href={`/admin/users/${encodeURIComponent(u.id)}`}>{u.email}</a>
                    {u.locked ? (
                      <>
                        {' '}
                        <Badge tone="off">locked</Badge>
                      </>
                    ) : null}
                  </p>
                  <UserFacts u={u} />
                </div>
              </li>
            ))}
          </ul>
        )}
        {p.next ? (
          <p class="log-nav">
            <a href={`/admin?${new URLSearchParams({ ...(p.q ? { q: p.q } : {}), before: p.next }).toString()}`}>Next page</a>
          </p>
        ) : null}
      </Card>
    </Layout>
  );
}

function ActionForm({ csrf, id, action, label, variant = 'secondary' }: { csrf: string; id: string; action: string; label: string; variant?: 'secondary' | 'danger' }) {
  return (
    <Form action={`/admin/users/${encodeURIComponent(id)}/${action}`} csrf={csrf} class="inline-form">
      <Button variant={variant}>{label}</Button>
    </Form>
  );
}

export function UserPage(p: { csrf: string; email: string; user: AdminUserView; recovery?: RecoveryView | null; notice?: string | undefined; groupsError?: string | undefined; groupsValue?: string }) {
  const u = p.user;
  return (
    <Layout title={u.email} user={{ email: p.email }} csrf={p.csrf} width="wide" hasErrors={!!p.groupsError}>
      <PageHeading title={u.email} lead={u.locked ? 'This account is locked: it cannot sign in.' : undefined} />
      {p.notice ? <Notice kind="success">{p.notice}</Notice> : null}
      <Card heading="Account" id="account" aside={<Badge tone={u.locked ? 'off' : 'on'}>{u.locked ? 'locked' : 'active'}</Badge>}>
        <dl class="facts">
          <div>
            <dt>Two-factor authentication</dt>
            <dd>{twoFactorWords(u)}</dd>
          </div>
          <div>
            <dt>Last sign-in</dt>
            <dd>{u.lastLoginAt ? formatTime(Date.parse(u.lastLoginAt)) : 'never'}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatTime(Date.parse(u.createdAt))}</dd>
          </div>
        </dl>
        <div class="actions actions-compact">
          {u.locked ? <ActionForm csrf={p.csrf} id={u.id} action="unlock" label="Unlock account" /> : <ActionForm csrf={p.csrf} id={u.id} action="lock" label="Lock account" />}
          <ActionForm csrf={p.csrf} id={u.id} action="revoke-sessions" label="Sign out everywhere" />
          {u.twoFactor.enabled ? <ActionForm csrf={p.csrf} id={u.id} action="reset-2fa" label="Reset two-factor authentication" /> : null}
        </div>
      </Card>
      {p.recovery ? (
        <Card heading="Account recovery" id="recovery">
          <p>
            {p.recovery.state === 'awaiting_confirmation'
              ? `This person started an account recovery on ${formatTime(p.recovery.requestedAt)}; the mailed link has not been opened yet.`
              : p.recovery.state === 'waiting'
                ? `An account recovery is waiting: after ${formatTime(p.recovery.dueAt!)} the next password login removes every second factor.`
                : 'The waiting period of an account recovery is over: the next password login removes every second factor.'}
          </p>
          <div class="actions actions-compact">
            {p.recovery.state === 'waiting' ? <ActionForm csrf={p.csrf} id={u.id} action="approve-recovery" label="Approve recovery now" /> : null}
            <ActionForm csrf={p.csrf} id={u.id} action="cancel-recovery" label="Cancel recovery" variant="danger" />
          </div>
        </Card>
      ) : null}
      <Card heading="Group membership" id="groups">
        <Form action={`/admin/users/${encodeURIComponent(u.id)}/groups`} csrf={p.csrf}>
          <Field
            name="groups"
            label="Groups"
            value={p.groupsValue ?? u.groups.join(', ')}
            hint="Separated by commas. Members of admins can use these pages."
            autocomplete="off"
            spellcheck={false}
            autocapitalize="none"
            error={p.groupsError}
          />
          <div class="form-actions">
            <Button variant="secondary">Save groups</Button>
          </div>
        </Form>
      </Card>
      <Card heading="Delete account" id="delete">
        <p>Removes the account and everything of it for good. The audit log keeps a record.</p>
        <div class="actions actions-compact">
          <ActionForm csrf={p.csrf} id={u.id} action="delete" label="Delete account" variant="danger" />
        </div>
      </Card>
      <p class="back-link">
        <a href="/admin">Back to Users</a>
      </p>
    </Layout>
  );
}

export function AuditLogPage({ csrf, email, entries, older, olderPage }: { csrf: string; email: string; entries: AuditEntry[]; older?: number | undefined; olderPage: boolean }) {
  return (
    <Layout title="Audit log" user={{ email }} csrf={csrf} width="wide">
      <PageHeading title="Audit log" lead="What administrators, admin tokens and the operator’s command line did, newest first." />
      <Card>
        {entries.length === 0 ? (
          <p class="empty">No entries{olderPage ? ' before these' : ' yet'}.</p>
        ) : (
          <ol class="log">
            {entries.map((e) => (
              <li class="log-item">
                <p class="log-event">
                  {ACTION_WORDS[e.action] ?? e.action}
                  {e.targetEmail ? `: ${e.targetEmail}` : ''}
                  {e.action === 'set_groups' && typeof e.detail?.groups === 'string' ? ` (${e.detail.groups || 'none'})` : ''}
                </p>
                <p class="log-meta">
                  <time datetime={new Date(e.at).toISOString()}>{formatTime(e.at)}</time>
                  <span>by {e.actor}</span>
                  {e.ip ? <span>from {e.ip}</span> : null}
                </p>
              </li>
            ))}
          </ol>
        )}
        <p class="log-nav">
          {olderPage ? <a href="/admin/audit-log">Newest entries</a> : null}
          {older !== undefined ? <a href={`/admin/audit-log?before=${older}`}>Older entries</a> : null}
        </p>
      </Card>
      <p class="back-link">
        <a href="/admin">Back to Users</a>
      </p>
    </Layout>
  );
}

export function adminPages(app: App, ctx: Context): void {
  const idOf = (request: FastifyRequest) => String((request.params as Record<string, unknown>).id ?? '');
  const userPath = (id: string) => `/admin/users/${encodeURIComponent(id)}`;

  app.get('/admin', async (request, reply) => {
    const base = await adminPage(ctx, request, reply, '/admin');
    if (!base) return reply;
    const query = request.query as Record<string, unknown>;
    const q = typeof query.q === 'string' ? query.q.slice(0, 320) : '';
    const before = typeof query.before === 'string' && query.before.length <= 64 ? query.before : undefined;
    const users = await searchAccounts(ctx, { q, limit: PAGE + 1, before });
    const next = users.length > PAGE ? users[PAGE - 1]!.id : undefined;
    return sendPage(reply, <UsersPage csrf={base.csrf} email={base.email} q={q} users={users.slice(0, PAGE)} next={next} notice={notice(query)} />);
  });

  app.get('/admin/audit-log', async (request, reply) => {
    const base = await adminPage(ctx, request, reply, '/admin/audit-log');
    if (!base) return reply;
    const raw = (request.query as Record<string, unknown>).before;
    const before = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
    const entries = await auditLog(ctx, PAGE, before);
    const last = entries.at(-1);
    const more = last !== undefined && entries.length >= PAGE && (await auditLog(ctx, 1, last.at)).length > 0;
    return sendPage(reply, <AuditLogPage csrf={base.csrf} email={base.email} entries={entries} older={more ? last.at : undefined} olderPage={before !== undefined} />);
  });

  app.get('/admin/users/:id', async (request, reply) => {
    const id = idOf(request);
    const base = await adminPage(ctx, request, reply, userPath(id));
    if (!base) return reply;
    const user = await getAccount(ctx, id);
    return sendPage(reply, <UserPage csrf={base.csrf} email={base.email} user={user} recovery={await openRecoveryFor(ctx, user.id)} notice={notice(request.query)} />);
  });

  const actions: [string, string, (actor: Actor, id: string) => Promise<unknown>][] = [
    ['lock', 'locked', (a, id) => lockAccount(ctx, a, id)],
    ['unlock', 'unlocked', (a, id) => unlockAccount(ctx, a, id)],
    ['reset-2fa', 'reset', (a, id) => resetAccountTwoFactor(ctx, a, id)],
    ['revoke-sessions', 'signed_out', (a, id) => signOutEverywhere(ctx, a, id)],
    ['cancel-recovery', 'recovery_cancelled', (a, id) => cancelAccountRecovery(ctx, a, id)],
    ['approve-recovery', 'recovery_approved', (a, id) => approveAccountRecovery(ctx, a, id)],
  ];
  for (const [path, done, run] of actions) {
    app.post(`/admin/users/:id/${path}`, async (request, reply) => {
      const id = idOf(request);
      const base = await adminPage(ctx, request, reply, userPath(id));
      if (!base) return reply;
      await run(base.actor, id);
      return reply.redirect(`${userPath(id)}?notice=${done}`, 303);
    });
  }

  app.post('/admin/users/:id/groups', async (request, reply) => {
    const id = idOf(request);
    const form = readForm(request, ['groups']);
    const base = await adminPage(ctx, request, reply, userPath(id));
    if (!base) return reply;
    const groups = form.groups
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    try {
      await setAccountGroups(ctx, base.actor, id, groups);
    } catch (err) {
      if (!(err instanceof AppError) || err.statusCode !== 400) throw err;
      return sendPage(reply, <UserPage csrf={base.csrf} email={base.email} user={await getAccount(ctx, id)} groupsError={err.message} groupsValue={form.groups} />, 400);
    }
    return reply.redirect(`${userPath(id)}?notice=groups`, 303);
  });

  app.get('/admin/users/:id/delete', async (request, reply) => {
    const id = idOf(request);
    const base = await adminPage(ctx, request, reply, userPath(id));
    if (!base) return reply;
    const user = await getAccount(ctx, id);
    return sendPage(
      reply,
      <Layout title="Delete account" user={{ email: base.email }} csrf={base.csrf}>
        <Card>
          <PageHeading title="Delete account" lead={`This deletes ${user.email} and everything of it for good.`} />
          <FormAlert message={undefined} />
          <Form action={`${userPath(id)}/delete`} csrf={base.csrf}>
            <input type="hidden" name="confirm" value="1" />
            <div class="actions actions-compact">
              <Button variant="danger">Delete account</Button>
              <a class="button button-secondary" href={userPath(id)}>
                Cancel
              </a>
            </div>
          </Form>
        </Card>
      </Layout>,
    );
  });

  app.post('/admin/users/:id/delete', async (request, reply) => {
    const id = idOf(request);
    const form = readForm(request, ['confirm']);
    const base = await adminPage(ctx, request, reply, userPath(id));
    if (!base) return reply;
    // The button on the user's page leads to a confirmation; only the confirmation deletes.
    if (form.confirm !== '1') return reply.redirect(`${userPath(id)}/delete`, 303);
    await deleteAccount(ctx, base.actor, id);
    return reply.redirect('/admin?notice=deleted', 303);
  });
}
