import type { FastifyReply, FastifyRequest } from 'fastify';
import { accessRequestOf, authorize, returnUrl } from '../../service/authz.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { cookieNames, readCookie } from '../cookies.js';
import { Button, Form } from '../pages/forms.js';
import { Card, Layout, PageHeading } from '../pages/layout.js';
import { withNext } from '../pages/next-path.js';
import { pageBase } from '../pages/page-context.js';
import { sendPage } from '../pages/render.js';
import type { App } from '../schemas.js';

export const CONTINUE_PATH = '/continue';

/**
 * `rd` (validated) as a same-origin `next`: every login step already carries `next` to its end,
 * and /continue then decides what the rule still needs. Undefined when `rd` is not honoured.
 */
export function continueNext(ctx: Context, rd: unknown): string | undefined {
  const target = returnUrl(ctx, rd);
  return target ? `${CONTINUE_PATH}?rd=${encodeURIComponent(target)}` : undefined;
}

function SetupNeededPage({ csrf, email, host, next }: { csrf: string; email: string; host: string; next: string }) {
  return (
    <Layout title="Two-factor authentication needed" csrf={csrf} user={{ email }}>
      <PageHeading title="Two-factor authentication needed" lead={`${host} asks for two-factor authentication. Set it up now and you will be sent back there.`} />
      <Card>
        <Form action={withNext('/settings/two-factor/setup', next)} csrf={csrf}>
          <Button>Setup two-factor authentication</Button>
        </Form>
      </Card>
    </Layout>
  );
}

/**
 * Where a person lands after logging in (or setting up 2FA, or re-authenticating) on the way back to
 * a protected application: the rules are asked again with this session, and the answer is the
 * application itself, the step still missing (set up 2FA, prove the second factor, a fresh login),
 * or a refusal. A bad `rd` is ignored: the person goes to their settings.
 */
export function continuePages(app: App, ctx: Context): void {
  const sessionCookie = cookieNames(ctx.config).session;
  app.get(CONTINUE_PATH, async (request: FastifyRequest, reply: FastifyReply) => {
    const target = returnUrl(ctx, (request.query as Record<string, unknown>).rd);
    const { csrf, auth } = await pageBase(ctx, request, reply);
    if (!target) return reply.redirect(auth && !auth.session.pending ? '/settings' : '/login', 303);
    const here = `${CONTINUE_PATH}?rd=${encodeURIComponent(target)}`;
    if (!auth) return reply.redirect(withNext('/login', here), 303);
    if (auth.session.pending) return reply.redirect(withNext('/login/two-factor', here), 303);
    const url = new URL(target);
    const { decision } = await authorize(ctx, readCookie(request, sessionCookie), accessRequestOf(url, 'GET'));
    if (decision.result === 'allow') return reply.redirect(target, 303);
    if (decision.result === 'forbidden') throw new AppError(403, 'forbidden', `You are signed in as ${auth.email}, but ${url.host} is not open to you.`);
    if (decision.step === 'second_factor') {
      const enabled = isTwoFactorEnabled(await twoFactorStatus(ctx.db, auth.session.userId));
      if (!enabled) return sendPage(reply, <SetupNeededPage csrf={csrf} email={auth.email} host={url.host} next={here} />);
    }
    // A second factor at this login, or a fresh one: re-authentication proves both.
    return reply.redirect(withNext('/reauthenticate', here), 303);
  });
}
