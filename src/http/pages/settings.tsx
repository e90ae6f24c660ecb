import type { Context } from '../../service/context.js';
import { listEvents, type SecurityEvent } from '../../store/security-log.js';
import { isTwoFactorEnabled, twoFactorStatus, type TwoFactorStatus } from '../../store/two-factor-status.js';
import type { App } from '../schemas.js';
import { Button, Form } from './forms.js';
import { Badge, Card, Layout, PageHeading } from './layout.js';
import { describeBrowser, describeEvent, formatTime } from './security-log-view.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';

const LOG_PAGE = 25;

export interface SettingsPageProps {
  csrf: string;
  email: string;
  status: TwoFactorStatus;
  events: SecurityEvent[];
  /** `at` of the last event shown, when there may be older ones. */
  olderBefore?: number | undefined;
  /** True when showing an older page of the log. */
  olderPage?: boolean;
}

/** The "Two-factor authentication" section of Account settings, in its states. */
export function TwoFactorSection({ csrf, status }: { csrf: string; status: TwoFactorStatus }) {
  const enabled = isTwoFactorEnabled(status);
  return (
    <Card heading="Two-factor authentication" id="two-factor" aside={<Badge tone={enabled ? 'on' : 'off'}>{enabled ? 'enabled' : 'disabled'}</Badge>}>
      {enabled ? (
        <p>
          Two-factor authentication is <strong>enabled</strong>. After your password, a login also asks for a code from your authenticator app
          {status.securityKeys > 0 ? ' or your security key' : ''}. Recovery codes left: {status.recoveryCodesRemaining}.
        </p>
      ) : (
        <>
          <p>
            Two-factor authentication is <strong>disabled</strong>. Turn it on so that a login needs your password and a code from an authenticator
            app on your phone, such as Google Authenticator, Authy or 1Password.
          </p>
          <Form action="/settings/two-factor/setup" csrf={csrf} class="form-actions">
            <Button>Setup two-factor authentication</Button>
          </Form>
        </>
      )}
    </Card>
  );
}

/** Newest first: what happened, when, from which IP address and browser. */
export function SecurityLogSection({ events, olderBefore, olderPage }: Pick<SettingsPageProps, 'events' | 'olderBefore' | 'olderPage'>) {
  return (
    <Card heading="Security log" id="security-log">
      <p class="hint">Logins and changes to your account's security, newest first. If you see something you did not do, change your password.</p>
      {events.length === 0 ? (
        <p>No events{olderPage ? ' before these' : ' yet'}.</p>
      ) : (
        <ol class="log">
          {events.map((e) => (
            <li class="log-item">
              <p class="log-event">{describeEvent(e)}</p>
              <p class="log-meta">
                <time datetime={new Date(e.at).toISOString()}>{formatTime(e.at)}</time>
                <span>
                  <span class="visually-hidden">IP address: </span>
                  {e.ip ?? 'unknown address'}
                </span>
                <span>
                  <span class="visually-hidden">Browser: </span>
                  {describeBrowser(e.userAgent)}
                </span>
              </p>
            </li>
          ))}
        </ol>
      )}
      {olderBefore !== undefined || olderPage ? (
        <p class="log-nav">
          {olderPage ? <a href="/settings#security-log">Newest events</a> : null}
          {olderBefore !== undefined ? <a href={`/settings?before=${olderBefore}#security-log`}>Older events</a> : null}
        </p>
      ) : null}
    </Card>
  );
}

export function SettingsPage(p: SettingsPageProps) {
  return (
    <Layout title="Account settings" user={{ email: p.email }} csrf={p.csrf} width="wide">
      <PageHeading title="Account settings" lead="How you log in, and what happened on your account recently." />
      <TwoFactorSection csrf={p.csrf} status={p.status} />
      <SecurityLogSection events={p.events} olderBefore={p.olderBefore} olderPage={p.olderPage} />
    </Layout>
  );
}

export function settingsPages(app: App, ctx: Context): void {
  app.get('/settings', async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const raw = (request.query as Record<string, unknown>).before;
    const before = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
    const [status, events] = await Promise.all([
      twoFactorStatus(ctx.db, auth.session.userId),
      listEvents(ctx.db, auth.session.userId, LOG_PAGE + 1, before),
    ]);
    const more = events.length > LOG_PAGE;
    const shown = events.slice(0, LOG_PAGE);
    return sendPage(
      reply,
      <SettingsPage
        csrf={csrf}
        email={auth.email}
        status={status}
        events={shown}
        olderBefore={more ? shown[shown.length - 1]!.at : undefined}
        olderPage={before !== undefined}
      />,
    );
  });
}
