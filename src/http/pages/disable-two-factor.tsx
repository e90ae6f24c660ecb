import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { disableTwoFactor } from '../../service/two-factor.js';
import { findTotp } from '../../store/totp.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { clearCookie, cookieNames } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { PasswordConfirmForm, fieldFailure, readForm, type FormFailure } from './forms.js';
import { Card, Layout, PageHeading } from './layout.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { codeFailure, fresh, isReauthRequired, toReauthenticate } from './second-factor-fields.js';

const PATH = '/settings/two-factor/disable';

export function DisablePage({ csrf, email, failure }: { csrf: string; email: string; failure?: FormFailure | undefined }) {
  return (
    <Layout title="Disable two-factor authentication" user={{ email }} csrf={csrf} hasErrors={!!failure}>
      <Card>
        <PageHeading
          title="Disable two-factor authentication"
          lead="A login will then need only your password. This removes your authenticator app, your security keys, all recovery codes and all trusted devices."
        />
        <PasswordConfirmForm action={PATH} csrf={csrf} submit="Disable two-factor authentication" failure={failure} autofocus />
      </Card>
    </Layout>
  );
}

export function disablePages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);

  /** On, or at least an unfinished setup that disabling would clear. */
  const somethingToDisable = async (userId: string) => isTwoFactorEnabled(await twoFactorStatus(ctx.db, userId)) || (await findTotp(ctx.db, userId)) !== null;

  app.get(PATH, async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if (!(await somethingToDisable(auth.session.userId))) return reply.redirect('/settings', 303);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, PATH);
    return sendPage(reply, <DisablePage csrf={csrf} email={auth.email} />);
  });

  app.post(PATH, { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['password']);
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, PATH);
    const show = (failure: FormFailure) => sendPage(reply, <DisablePage csrf={csrf} email={auth.email} failure={failure} />, failure.status, failure.headers);
    if (!form.password) return show(fieldFailure('password', 'Enter your password.'));
    try {
      await disableTwoFactor(ctx, auth.session, form.password, requestMeta(request));
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, PATH);
      if (err instanceof AppError && err.code === 'two_factor_not_enabled') return reply.redirect('/settings', 303);
      return show(await codeFailure(ctx, auth.session.userId, err));
    }
    clearCookie(reply, ctx.config, names.device);
    return reply.redirect('/settings?notice=two_factor_off', 303);
  });
}
