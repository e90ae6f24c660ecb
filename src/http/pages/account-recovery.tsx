import type { ComponentChildren } from 'preact';
import { cancelRecoveryByLink, confirmRecovery, currentRecovery, recoveryForCancelLink, startRecovery, type RecoveryView } from '../../service/account-recovery.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Form, FormAlert, readForm } from './forms.js';
import { Card, Layout, Notice, PageHeading } from './layout.js';
import { pageBase } from './page-context.js';
import { sendPage } from './render.js';
import { formatTime } from './security-log-view.js';

const START = '/login/recovery';
const CONFIRM = '/account/recovery/confirm';
const CANCEL = '/account/recovery/cancel';

function delayWords(ms: number): string {
  const h = ms / 3_600_000;
  if (h >= 48 && Number.isInteger(h / 24)) return `${h / 24} days`;
  if (h >= 1 && Number.isInteger(h)) return `${h} hour${h === 1 ? '' : 's'}`;
  const m = Math.round(ms / 60_000);
  if (m >= 1) return `${m} minute${m === 1 ? '' : 's'}`;
  return `${Math.max(1, Math.round(ms / 1000))} seconds`;
}

/** Where an account recovery stands, in words a person acts on. */
function RecoveryState({ r }: { r: RecoveryView }) {
  switch (r.state) {
    case 'awaiting_confirmation':
      return (
        <Notice kind="info">
          We sent a link to your email address. Open it to start the waiting period. The link works until {formatTime(r.confirmExpiresAt)}.
        </Notice>
      );
    case 'waiting':
      return (
        <Notice kind="info">
          Your account recovery is scheduled. After {formatTime(r.dueAt!)}, log in with your email and password: your second factors will then be
          removed and you can set up two-factor authentication again. Logging in with a second factor before then cancels the recovery.
        </Notice>
      );
    case 'ready':
      return <Notice kind="success">The waiting period is over. Log in again with your email and password to finish the recovery.</Notice>;
    default:
      return null;
  }
}

export function StartRecoveryPage({ csrf, email, delayMs, recovery, failure }: { csrf: string; email: string; delayMs: number; recovery: RecoveryView | null; failure?: string | undefined }) {
  const open = recovery && (recovery.state === 'awaiting_confirmation' || recovery.state === 'waiting' || recovery.state === 'ready');
  return (
    <Layout title="Recover your account" pendingEmail={email} hasErrors={!!failure}>
      <Card>
        <PageHeading
          title="Recover your account"
          lead="Lost your phone, your security keys and your recovery codes? You can remove your second factors yourself, after a waiting period that protects you if someone else has your password."
        />
        <FormAlert message={failure} />
        {open ? (
          <RecoveryState r={recovery} />
        ) : (
          <>
            <ol class="numbered">
              <li>We send a link to the email address of your account. Open it to confirm.</li>
              <li>
                Then we wait {delayWords(delayMs)}. We tell you by email when the wait starts, a day before it ends, and when it ends; every
                message has a link to cancel.
              </li>
              <li>If you sign in with a second factor during the wait, the recovery is cancelled: it was not needed.</li>
              <li>After the wait, log in with your email and password. Your authenticator app, security keys, recovery codes and trusted devices are removed, and you set up two-factor authentication again.</li>
            </ol>
            <Form action={START} csrf={csrf}>
              <div class="actions actions-compact">
                <Button>Start account recovery</Button>
                <a class="button button-secondary" href="/login/two-factor">
                  Back
                </a>
              </div>
            </Form>
          </>
        )}
      </Card>
    </Layout>
  );
}

function MessagePage({ title, children, status = 200 }: { title: string; children: ComponentChildren; status?: number }) {
  return (
    <Layout title={title} hasErrors={status >= 400}>
      <Card>
        <PageHeading title={title} />
        {children}
        <p>
          <a href="/login">Go to log in</a>
        </p>
      </Card>
    </Layout>
  );
}

const deadLink = () => (
  <MessagePage title="This link does not work any more" status={400}>
    <Notice kind="error">It was used already, has expired, or the account recovery it belongs to has ended.</Notice>
  </MessagePage>
);

export function CancelRecoveryPage({ csrf, token, recovery }: { csrf: string; token: string; recovery: RecoveryView }) {
  return (
    <Layout title="Cancel account recovery">
      <Card>
        <PageHeading
          title="Cancel account recovery"
          lead="If you did not ask to recover your account, someone else may know your password: cancel the recovery, then log in and change your password."
        />
        {recovery.dueAt !== null ? <p>The recovery would complete after {formatTime(recovery.dueAt)}.</p> : <p>The recovery has not been confirmed yet.</p>}
        <Form action={CANCEL} csrf={csrf}>
          <input type="hidden" name="token" value={token} />
          <div class="actions actions-compact">
            <Button variant="danger">Cancel recovery</Button>
          </div>
        </Form>
      </Card>
    </Layout>
  );
}

/** SPEC §12 pages: start from the pending login, confirm and cancel from the mailed links. No JavaScript. */
export function accountRecoveryPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const showStart = async (request: Parameters<typeof pageBase>[1], reply: Parameters<typeof pageBase>[2], failure?: string, status = 200) => {
    const { csrf, auth } = await pageBase(ctx, request, reply);
    if (!auth) return reply.redirect('/login?expired=1', 303);
    if (!auth.session.pending) return reply.redirect('/settings', 303);
    const recovery = await currentRecovery(ctx, auth.session.userId);
    return sendPage(reply, <StartRecoveryPage csrf={csrf} email={auth.email} delayMs={ctx.config.recoveryDelayMs} recovery={recovery} failure={failure} />, status);
  };

  app.get(START, async (request, reply) => showStart(request, reply));

  app.post(START, { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    readForm(request, []);
    const { auth } = await pageBase(ctx, request, reply);
    if (!auth) return reply.redirect('/login?expired=1', 303);
    if (!auth.session.pending) return reply.redirect('/settings', 303);
    try {
      await startRecovery(ctx, auth.session.userId, requestMeta(request));
    } catch (err) {
      if (err instanceof AppError && err.code !== 'recovery_in_progress') return showStart(request, reply, err.message, err.statusCode);
      if (!(err instanceof AppError)) throw err;
    }
    return reply.redirect(START, 303);
  });

  // Opening the mailed link schedules the recovery (SPEC §12). It is single use and bound to one
  // recovery; a second opening finds the link spent and says so.
  app.get(CONFIRM, async (request, reply) => {
    const token = (request.query as Record<string, unknown>).token;
    if (typeof token !== 'string') return sendPage(reply, deadLink(), 400);
    let r: RecoveryView;
    try {
      r = await confirmRecovery(ctx, token, requestMeta(request));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_token') return sendPage(reply, deadLink(), 400);
      throw err;
    }
    return sendPage(
      reply,
      <MessagePage title="Account recovery scheduled">
        <RecoveryState r={r} />
        <p>We sent you an email about it, with a link to cancel. If this was not you, use that link and change your password.</p>
      </MessagePage>,
    );
  });

  app.get(CANCEL, async (request, reply) => {
    const token = (request.query as Record<string, unknown>).token;
    const { csrf } = await pageBase(ctx, request, reply);
    const r = typeof token === 'string' ? await recoveryForCancelLink(ctx, token) : null;
    if (!r || typeof token !== 'string') return sendPage(reply, deadLink(), 400);
    return sendPage(reply, <CancelRecoveryPage csrf={csrf} token={token} recovery={r} />);
  });

  app.post(CANCEL, { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['token']);
    try {
      await cancelRecoveryByLink(ctx, form.token ?? '', requestMeta(request));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_token') return sendPage(reply, deadLink(), 400);
      throw err;
    }
    return sendPage(
      reply,
      <MessagePage title="Account recovery cancelled">
        <Notice kind="success">The recovery is cancelled: nothing of your account was changed. If you did not start it, change your password.</Notice>
      </MessagePage>,
    );
  });
}
