import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../service/context.js';
import { twoFactorDemandOf } from '../../service/require-two-factor.js';
import type { App } from '../schemas.js';
import { loadAuth } from '../auth.js';
import { Button, Form } from './forms.js';
import { Card, Layout, Notice, PageHeading } from './layout.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { formatTime } from './security-log-view.js';

export const REQUIRED_PATH = '/settings/two-factor/required';

declare module 'fastify' {
  interface FastifyRequest {
    /** During a required-2FA grace period: when it ends, for the banner of every signed-in page. */
    twoFactorGraceDeadline?: number;
  }
}

/** What the page being rendered knows about the request beyond its own props (sendPage provides it). */
export const PageRequestContext = createContext<{ twoFactorGraceDeadline?: number | undefined }>({});

/** The banner of the grace period: shown on every signed-in page until 2FA is on. */
export function GraceBanner() {
  const { twoFactorGraceDeadline } = useContext(PageRequestContext);
  if (twoFactorGraceDeadline === undefined) return null;
  return (
    <Notice kind="warning">
      This service requires two-factor authentication for your account. Set it up by <strong>{formatTime(twoFactorGraceDeadline)}</strong>;
      after that you can only reach the setup until it is done. <a href="/settings#two-factor">Set up two-factor authentication</a>
    </Notice>
  );
}

/** Pages an account past its grace period may still reach: the setup itself, re-authentication, logout. */
const SETUP_PAGES = [REQUIRED_PATH, '/settings/two-factor/setup', '/settings/two-factor/confirm', '/reauthenticate', '/logout', '/login', '/signup', '/assets/'];

function allowedDuringRequirement(url: string): boolean {
  const path = url.split('?')[0]!;
  return SETUP_PAGES.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p || path.startsWith(p + '/')));
}

/**
 * For every page: under TWOFOLD_REQUIRE_2FA, a signed-in account without 2FA gets the grace banner,
 * and once the grace period is over every page but the setup sends it to the setup.
 */
export function requireTwoFactorPageGuard(ctx: Context) {
  return async function guard(request: FastifyRequest, reply: FastifyReply) {
    if (ctx.config.requireTwoFactor.kind === 'off') return;
    if (request.url.startsWith('/assets/')) return;
    const auth = await loadAuth(ctx, request);
    if (!auth || auth.session.pending) return;
    const demand = await twoFactorDemandOf(ctx, auth.session.userId);
    if (demand.state === 'grace') request.twoFactorGraceDeadline = demand.deadline;
    if (demand.state === 'required' && !allowedDuringRequirement(request.url)) return reply.redirect(REQUIRED_PATH, 303);
  };
}

export function TwoFactorRequiredPage({ csrf, email }: { csrf: string; email: string }) {
  return (
    <Layout title="Set up two-factor authentication" user={{ email }} csrf={csrf}>
      <Card>
        <PageHeading
          title="Set up two-factor authentication"
          lead="This service requires two-factor authentication for your account, and the time to set it up is over. Set it up now to continue."
        />
        <p>You need an authenticator app on your phone, such as Google Authenticator, Authy or 1Password. It takes about a minute.</p>
        <Form action="/settings/two-factor/setup" csrf={csrf} class="form-actions">
          <Button block>Setup two-factor authentication</Button>
        </Form>
      </Card>
    </Layout>
  );
}

export function twoFactorRequiredPages(app: App, ctx: Context): void {
  app.get(REQUIRED_PATH, async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if ((await twoFactorDemandOf(ctx, auth.session.userId)).state !== 'required') return reply.redirect('/settings', 303);
    return sendPage(reply, <TwoFactorRequiredPage csrf={csrf} email={auth.email} />);
  });
}
