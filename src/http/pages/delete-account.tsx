import { deleteMyAccount } from '../../service/account-deletion.js';
import type { Context } from '../../service/context.js';
import { clearCookie, cookieNames } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { PasswordConfirmForm, fieldFailure, formFailure, readForm, type FormFailure } from './forms.js';
import { Card, Layout, Notice, PageHeading } from './layout.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { fresh, isReauthRequired, toReauthenticate } from './second-factor-fields.js';

export const DELETE_PATH = '/settings/delete-account';

export function DeleteAccountPage({ csrf, email, failure }: { csrf: string; email: string; failure?: FormFailure | undefined }) {
  return (
    <Layout title="Delete account" user={{ email }} csrf={csrf} hasErrors={!!failure}>
      <Card>
        <PageHeading title="Delete account" lead={`This deletes ${email} for good.`} />
        <Notice kind="warning">
          Your account, its two-factor authentication, security keys, recovery codes, trusted devices, sessions and security log are removed. This cannot be
          undone.
        </Notice>
        <PasswordConfirmForm action={DELETE_PATH} csrf={csrf} submit="Delete account" failure={failure} />
      </Card>
    </Layout>
  );
}

export function deleteAccountPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);

  app.get(DELETE_PATH, async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, DELETE_PATH);
    return sendPage(reply, <DeleteAccountPage csrf={csrf} email={auth.email} />);
  });

  app.post(DELETE_PATH, { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['password']);
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, DELETE_PATH);
    const show = (failure: FormFailure) => sendPage(reply, <DeleteAccountPage csrf={csrf} email={auth.email} failure={failure} />, failure.status, failure.headers);
    if (!form.password) return show(fieldFailure('password', 'Enter your password.'));
    try {
      await deleteMyAccount(ctx, auth.session.userId, form.password, requestMeta(request));
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, DELETE_PATH);
      return show(formFailure(err));
    }
    clearCookie(reply, ctx.config, names.session);
    clearCookie(reply, ctx.config, names.device);
    return reply.redirect('/login?account_deleted=1', 303);
  });
}
