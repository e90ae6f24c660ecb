import { LOW_RECOVERY_CODES, RECOVERY_CODE_COUNT } from '../../core/recovery-codes.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { listKeys, type SecurityKeyView } from '../../service/security-keys.js';
import type { ActiveSession } from '../../service/sessions.js';
import { listDevices, revokeDevice, type DeviceView } from '../../service/trusted-devices.js';
import { listEvents, type SecurityEvent } from '../../store/security-log.js';
import { isTwoFactorEnabled, twoFactorStatus, type TwoFactorStatus } from '../../store/two-factor-status.js';
import { cookieNames, readCookie } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Form } from './forms.js';
import { Badge, Card, Layout, Notice, PageHeading } from './layout.js';
import { KEY_SCRIPTS, SecurityKeysSection, type AddKeyFormState } from './security-key-views.js';
import { fresh, isReauthRequired, ReturnTo, toReauthenticate } from './second-factor-fields.js';
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
  /** Shown when two-factor authentication is on (or devices linger). */
  devices?: DeviceView[] | undefined;
  /** A flash from the redirect that led here. */
  notice?: string | undefined;
  /** After a login with a recovery code: how many are left. */
  codesLeft?: number | undefined;
  keys: SecurityKeyView[];
  /** A flash about security keys, shown in their section. */
  keyNotice?: string | undefined;
  /** The add-key form shown again after a refusal. */
  keyForm?: AddKeyFormState | undefined;
}

const NOTICES: Record<string, string> = {
  two_factor_on: 'Two-factor authentication is on. From now on a login asks for a code from your authenticator app.',
  two_factor_off: 'Two-factor authentication is off. Your authenticator app, security keys, recovery codes and trusted devices were removed.',
  password_changed: 'Your password was changed. Every other session was logged out and every trusted device was revoked.',
  app_added: 'Your authenticator app is set up. A login now accepts a code from it or your security key.',
  codes_regenerated: 'You have a new set of recovery codes. The old ones no longer work.',
  device_revoked: 'The device was revoked. It will be asked for a code at its next login.',
};

/** Flashes about security keys: shown in the Security keys section, where the redirect lands. */
const KEY_NOTICES: Record<string, string> = {
  key_added: 'The security key was added. You can use it at your next login.',
  key_added_two_factor_on: 'Two-factor authentication is on. From now on a login asks for your security key.',
  key_removed: 'The security key was removed. It can no longer be used to log in.',
  key_removed_two_factor_off:
    'The security key was removed. It was your last second factor, so two-factor authentication is now off: your recovery codes and trusted devices were removed too.',
  passkey_added: 'The passkey was added. You can sign in with it without your password, and use it as the second step after it.',
  passkey_added_two_factor_on: 'Two-factor authentication is on. Sign in with your passkey, or with your password and then the passkey.',
  passkey_removed: 'The passkey was removed. It can no longer be used to log in; your device may still list it until you delete it there.',
  passkey_removed_two_factor_off:
    'The passkey was removed. It was your last second factor, so two-factor authentication is now off: your recovery codes and trusted devices were removed too.',
  key_renamed: 'The name was changed.',
};

/** The flash messages a redirect to /settings can carry in its query: fixed words, nothing secret. */
export function settingsNotice(query: Record<string, unknown>): { notice?: string; keyNotice?: string; codesLeft?: number } {
  const word = typeof query.notice === 'string' ? query.notice : '';
  const notice = Object.hasOwn(NOTICES, word) ? NOTICES[word] : undefined;
  const keyNotice = Object.hasOwn(KEY_NOTICES, word) ? KEY_NOTICES[word] : undefined;
  const raw = query.codes_left;
  const codesLeft = typeof raw === 'string' && /^\d{1,2}$/.test(raw) ? Number(raw) : undefined;
  return { ...(notice ? { notice } : {}), ...(keyNotice ? { keyNotice } : {}), ...(codesLeft !== undefined ? { codesLeft } : {}) };
}

/** "a code from your authenticator app or your security key": what a login asks for after the password (a passkey is a key here). */
function secondStepWords(status: TwoFactorStatus): string {
  const keys = status.securityKeys > 0 ? (status.securityKeys === 1 ? 'your security key' : 'one of your security keys') : null;
  if (status.totp && keys) return `a code from your authenticator app or ${keys}`;
  return keys ?? 'a code from your authenticator app';
}

function codesWord(n: number): string {
  return `${n} recovery code${n === 1 ? '' : 's'}`;
}

/** After a login with a recovery code: how many are left (the section below warns when few are). */
export function CodesLeftNotice({ left }: { left: number }) {
  return (
    <Notice>
      You logged in with a recovery code, so it cannot be used again. You have <strong>{codesWord(left)}</strong> left.
    </Notice>
  );
}

/** The "Two-factor authentication" section of Account settings, in its states. */
export function TwoFactorSection({ csrf, status }: { csrf: string; status: TwoFactorStatus }) {
  const enabled = isTwoFactorEnabled(status);
  const left = status.recoveryCodesRemaining;
  return (
    <Card heading="Two-factor authentication" id="two-factor" aside={<Badge tone={enabled ? 'on' : 'off'}>{enabled ? 'enabled' : 'disabled'}</Badge>}>
      {enabled ? (
        <>
          <p>
            Two-factor authentication is <strong>enabled</strong>. After your password, a login also asks for {secondStepWords(status)}.
          </p>
          <dl class="facts">
            <div>
              <dt>Methods</dt>
              <dd>
                {[
                  status.totp ? 'Authenticator app' : null,
                  status.securityKeys > 0 ? `Security key${status.securityKeys === 1 ? '' : 's'} (${status.securityKeys})` : null,
                  'Recovery codes',
                ]
                  .filter(Boolean)
                  .join(', ')}
              </dd>
            </div>
            <div>
              <dt>Recovery codes left</dt>
              <dd>
                {left} of {RECOVERY_CODE_COUNT}
              </dd>
            </div>
          </dl>
          {left <= LOW_RECOVERY_CODES ? (
            <Notice kind="warning">
              {left === 0 ? 'You have no recovery codes left.' : `Only ${codesWord(left)} left.`} If you lose your phone, recovery codes are how you get
              back in. Regenerate recovery codes to get a new set of 10.
            </Notice>
          ) : null}
          <div class="actions actions-compact">
            <a class="button button-secondary" href="/settings/two-factor/recovery-codes">
              View recovery codes
            </a>
            <Form action="/settings/two-factor/recovery-codes" csrf={csrf} class="inline-form">
              <ReturnTo path="/settings" />
              <Button variant="secondary">Regenerate recovery codes</Button>
            </Form>
            <a class="button button-danger" href="/settings/two-factor/disable">
              Disable two-factor authentication
            </a>
          </div>
          {status.totp ? null : (
            <div class="subsection">
              <p class="hint">
                Add an authenticator app on your phone too, so that you can still log in when no security key is at hand.
              </p>
              <Form action="/settings/two-factor/setup" csrf={csrf} class="form-actions">
                <Button variant="secondary">Setup two-factor authentication</Button>
              </Form>
            </div>
          )}
        </>
      ) : (
        <>
          <p>
            Two-factor authentication is <strong>disabled</strong>. Turn it on so that a login needs your password and a code from an authenticator
            app on your phone, such as Google Authenticator, Authy or 1Password, or a security key (see Security keys below).
          </p>
          <Form action="/settings/two-factor/setup" csrf={csrf} class="form-actions">
            <Button>Setup two-factor authentication</Button>
          </Form>
        </>
      )}
    </Card>
  );
}

/** Browsers that skip the second factor, each with Revoke. */
export function TrustedDevicesSection({ csrf, devices }: { csrf: string; devices: DeviceView[] }) {
  return (
    <Card heading="Trusted devices" id="trusted-devices">
      <p class="hint">
        Browsers where you chose “Trust this device for 30 days”. A login there asks only for your password. Revoke any device you no longer use or
        do not recognise.
      </p>
      {devices.length === 0 ? (
        <p class="empty">No trusted devices.</p>
      ) : (
        <ul class="item-list">
          {devices.map((d) => {
            const labelId = `device-${d.id}`;
            return (
              <li class="item">
                <div class="item-main">
                  <p class="item-title" id={labelId}>
                    {d.label}
                    {d.current ? (
                      <>
                        {' '}
                        <Badge tone="neutral">This device</Badge>
                      </>
                    ) : null}
                  </p>
                  <p class="item-meta">
                    <span>Added {formatTime(Date.parse(d.createdAt))}</span>
                    <span>Last used {d.lastUsedAt ? formatTime(Date.parse(d.lastUsedAt)) : 'never'}</span>
                    <span>Expires {formatTime(Date.parse(d.expiresAt))}</span>
                  </p>
                </div>
                <Form action={`/settings/trusted-devices/${encodeURIComponent(d.id)}/revoke`} csrf={csrf} class="inline-form">
                  <button type="submit" class="button button-secondary button-small" aria-describedby={labelId}>
                    Revoke
                  </button>
                </Form>
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

/** Newest first: what happened, when, from which IP address and browser. */
export function PasswordSection() {
  return (
    <Card heading="Password" id="password">
      <p>A new password logs out every other session and revokes every trusted device.</p>
      <div class="actions actions-compact">
        <a class="button button-secondary" href="/settings/password">
          Change password
        </a>
      </div>
    </Card>
  );
}

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
    <Layout title="Account settings" user={{ email: p.email }} csrf={p.csrf} width="wide" scripts={KEY_SCRIPTS} hasErrors={!!p.keyForm?.failure}>
      <PageHeading title="Account settings" lead="How you log in, and what happened on your account recently." />
      {p.notice ? <Notice kind="success">{p.notice}</Notice> : null}
      {p.codesLeft !== undefined ? <CodesLeftNotice left={p.codesLeft} /> : null}
      <TwoFactorSection csrf={p.csrf} status={p.status} />
      <SecurityKeysSection csrf={p.csrf} keys={p.keys} hasApp={p.status.totp} notice={p.keyNotice} form={p.keyForm} />
      {p.devices !== undefined ? <TrustedDevicesSection csrf={p.csrf} devices={p.devices} /> : null}
      <PasswordSection />
      <SecurityLogSection events={p.events} olderBefore={p.olderBefore} olderPage={p.olderPage} />
    </Layout>
  );
}

/**
 * Renders Account settings for the signed-in session: on GET (with the query's flashes and log
 * page), and as the answer to a refused add-key form (`keyForm`, with its failure's status).
 */
export async function showSettings(
  ctx: Context,
  request: FastifyRequest,
  reply: FastifyReply,
  { csrf, auth }: { csrf: string; auth: ActiveSession },
  keyForm?: AddKeyFormState,
): Promise<FastifyReply> {
  const query = request.method === 'GET' ? (request.query as Record<string, unknown>) : {};
  const raw = query.before;
  const before = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
  const [status, events, devices, keys] = await Promise.all([
    twoFactorStatus(ctx.db, auth.session.userId),
    listEvents(ctx.db, auth.session.userId, LOG_PAGE, before),
    listDevices(ctx, auth.session.userId, readCookie(request, cookieNames(ctx.config).device)),
    listKeys(ctx, auth.session.userId),
  ]);
  const { notice, keyNotice, codesLeft } = settingsNotice(query);
  // A page ends on a whole millisecond (listEvents), so the next page starts strictly before it.
  const last = events.at(-1);
  const more = last !== undefined && events.length >= LOG_PAGE && (await listEvents(ctx.db, auth.session.userId, 1, last.at)).length > 0;
  return sendPage(
    reply,
    <SettingsPage
      csrf={csrf}
      email={auth.email}
      status={status}
      events={events}
      olderBefore={more ? last.at : undefined}
      olderPage={before !== undefined}
      devices={isTwoFactorEnabled(status) || devices.length > 0 ? devices : undefined}
      notice={notice}
      codesLeft={codesLeft}
      keys={keys}
      keyNotice={keyNotice}
      keyForm={keyForm}
    />,
    keyForm?.failure?.status ?? 200,
    keyForm?.failure?.headers ?? {},
  );
}

export function settingsPages(app: App, ctx: Context): void {
  app.get('/settings', async (request, reply) => showSettings(ctx, request, reply, await signedInPage(ctx, request, reply)));

  app.post('/settings/trusted-devices/:id/revoke', async (request, reply) => {
    const { auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, '/settings');
    const id = String((request.params as Record<string, unknown>).id ?? '');
    try {
      await revokeDevice(ctx, auth.session.userId, id, requestMeta(request));
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, '/settings');
      // Already gone (revoked in another tab, or expired): the list simply no longer shows it.
      if (!(err instanceof AppError && err.code === 'not_found')) throw err;
    }
    return reply.redirect('/settings?notice=device_revoked#trusted-devices', 303);
  });
}
