import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { listMySessions, revokeMySession, revokeOtherSessions, type SessionView } from '../../service/my-sessions.js';
import { clearCookie, cookieNames } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Form } from './forms.js';
import { Badge, Card, Layout, Notice, PageHeading } from './layout.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { formatTime } from './security-log-view.js';

export const SESSIONS_PATH = '/settings/sessions';

const NOTICES: Record<string, string> = {
  signed_out: 'That session was signed out. The browser it was on has to log in again.',
  signed_out_others: 'Every other session was signed out.',
};

function sessionName(s: SessionView): string {
  if (s.browser && s.os) return `${s.browser} on ${s.os}`;
  return s.browser ?? (s.os ? `Browser on ${s.os}` : 'Unknown browser');
}

export function SessionsPage({ csrf, email, sessions, notice }: { csrf: string; email: string; sessions: SessionView[]; notice?: string | undefined }) {
  const others = sessions.filter((s) => !s.current);
  return (
    <Layout title="Sessions" user={{ email }} csrf={csrf} width="wide">
      <PageHeading title="Sessions" lead="Where your account is signed in now. Sign out any session you do not recognise, then change your password." />
      {notice ? <Notice kind="success">{notice}</Notice> : null}
      <Card heading="Signed-in sessions" id="sessions">
        <ul class="item-list">
          {sessions.map((s, i) => {
            const labelId = `session-${i}`;
            return (
              <li class="item">
                <div class="item-main">
                  <p class="item-title" id={labelId}>
                    {sessionName(s)}
                    {s.current ? (
                      <>
                        {' '}
                        <Badge tone="neutral">This session</Badge>
                      </>
                    ) : null}
                  </p>
                  <p class="item-meta">
                    <span>IP address {s.ip ?? 'unknown'}</span>
                    <span>Started {formatTime(Date.parse(s.createdAt))}</span>
                    <span>Last active {formatTime(Date.parse(s.lastSeenAt))}</span>
                  </p>
                </div>
                {s.current ? null : (
                  <Form action={`${SESSIONS_PATH}/${encodeURIComponent(s.id)}/sign-out`} csrf={csrf} class="inline-form">
                    <button type="submit" class="button button-secondary button-small" aria-describedby={labelId}>
                      Sign out
                    </button>
                  </Form>
                )}
              </li>
            );
          })}
        </ul>
        {others.length > 0 ? (
          <Form action={`${SESSIONS_PATH}/sign-out-others`} csrf={csrf} class="form-actions">
            <Button variant="secondary">Sign out all other sessions</Button>
          </Form>
        ) : (
          <p class="empty">You are signed in nowhere else.</p>
        )}
      </Card>
      <p class="back-link">
        <a href="/settings">Back to Account settings</a>
      </p>
    </Layout>
  );
}

export function sessionPages(app: App, ctx: Context): void {
  const names = cookieNames(ctx.config);

  app.get(SESSIONS_PATH, async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const word = (request.query as Record<string, unknown>).notice;
    const notice = typeof word === 'string' && Object.hasOwn(NOTICES, word) ? NOTICES[word] : undefined;
    return sendPage(reply, <SessionsPage csrf={csrf} email={auth.email} sessions={await listMySessions(ctx, auth.session)} notice={notice} />);
  });

  app.post(`${SESSIONS_PATH}/:id/sign-out`, async (request, reply) => {
    const { auth } = await signedInPage(ctx, request, reply);
    const id = String((request.params as Record<string, unknown>).id ?? '');
    try {
      const { wasCurrent } = await revokeMySession(ctx, auth.session, id, requestMeta(request));
      if (wasCurrent) {
        clearCookie(reply, ctx.config, names.session);
        return reply.redirect('/login?logged_out=1', 303);
      }
    } catch (err) {
      // Already gone (signed out in another tab, or expired): the list simply no longer shows it.
      if (!(err instanceof AppError && err.code === 'not_found')) throw err;
    }
    return reply.redirect(`${SESSIONS_PATH}?notice=signed_out`, 303);
  });

  app.post(`${SESSIONS_PATH}/sign-out-others`, async (request, reply) => {
    const { auth } = await signedInPage(ctx, request, reply);
    await revokeOtherSessions(ctx, auth.session, requestMeta(request));
    return reply.redirect(`${SESSIONS_PATH}?notice=signed_out_others`, 303);
  });
}
