import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { changePassword } from '../../service/password-change.js';
import { clearCookie, cookieNames } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Field, Form, FormAlert, fieldFailure, formFailure, readForm, SubmitOrCancel, type FormFailure } from './forms.js';
import { Card, Layout, PageHeading } from './layout.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { fresh, isReauthRequired, toReauthenticate } from './second-factor-fields.js';

const PATH = '/settings/password';

export function ChangePasswordPage({ csrf, email, failure }: { csrf: string; email: string; failure?: FormFailure | undefined }) {
  const errors = failure?.fields ?? {};
  return (
    <Layout title="Change password" user={{ email }} csrf={csrf} hasErrors={!!failure}>
      <Card>
        <PageHeading title="Change password" lead="Every other session is logged out and every trusted device is revoked." />
        <FormAlert message={failure?.form} />
        <Form action={PATH} csrf={csrf}>
          <Field name="currentPassword" label="Current password" type="password" autocomplete="current-password" required autofocus error={errors.currentPassword} />
          <Field
            name="newPassword"
            label="New password"
            type="password"
            autocomplete="new-password"
            required
            hint="8 to 256 characters. A few unrelated words make a strong one."
            error={errors.newPassword}
          />
          <SubmitOrCancel>
            <Button>Change password</Button>
          </SubmitOrCancel>
        </Form>
      </Card>
    </Layout>
  );
}

/** Which field a refusal belongs to: the services name both passwords `password`. */
function passwordFailure(err: unknown): FormFailure {
  const field = err instanceof AppError && err.code === 'invalid_credentials' ? 'currentPassword' : 'newPassword';
  return formFailure(err, { password: field });
}

export function changePasswordPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);

  app.get(PATH, async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, PATH);
    return sendPage(reply, <ChangePasswordPage csrf={csrf} email={auth.email} />);
  });

  app.post(PATH, { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['currentPassword', 'newPassword']);
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, PATH);
    const show = (failure: FormFailure) => sendPage(reply, <ChangePasswordPage csrf={csrf} email={auth.email} failure={failure} />, failure.status, failure.headers);
    if (!form.currentPassword) return show(fieldFailure('currentPassword', 'Enter your current password.'));
    if (!form.newPassword) return show(fieldFailure('newPassword', 'Enter a new password.'));
    try {
      await changePassword(ctx, auth.session, { currentPassword: form.currentPassword, newPassword: form.newPassword }, requestMeta(request));
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, PATH);
      return show(passwordFailure(err));
    }
    clearCookie(reply, ctx.config, names.device);
    return reply.redirect('/settings?notice=password_changed', 303);
  });
}
