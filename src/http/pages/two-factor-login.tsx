import type { Context } from '../../service/context.js';
import type { App } from '../schemas.js';
import { Button, Field, Form, FormAlert, type FormFailure } from './forms.js';
import { Card, Layout, PageHeading } from './layout.js';
import { safeNext, withNext } from './next-path.js';
import { pageBase } from './page-context.js';
import { sendPage } from './render.js';

export interface TwoFactorLoginPageProps {
  csrf: string;
  /** The only thing of the account this page shows. */
  email: string;
  next?: string | undefined;
  failure?: FormFailure | undefined;
}

/** The second step of a login: a 6-digit code from the authenticator app. */
export function TwoFactorLoginPage({ csrf, email, next, failure }: TwoFactorLoginPageProps) {
  const errors = failure?.fields ?? {};
  return (
    <Layout title="Two-factor authentication" pendingEmail={email} hasErrors={!!failure}>
      <Card>
        <PageHeading title="Two-factor authentication" lead="Open your authenticator app and enter the 6-digit code it shows for this account." />
        <FormAlert message={failure?.form} />
        <Form action={withNext('/login/two-factor', next)} csrf={csrf}>
          <Field
            name="code"
            label="Verification code"
            inputmode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9 ]*"
            maxLength={12}
            spellcheck={false}
            inputClass="input-code"
            required
            autofocus
            error={errors.code}
          />
          <Button block>Verify</Button>
        </Form>
      </Card>
      <p class="below-card">
        <a href="/login">Log in with another account</a>
      </p>
    </Layout>
  );
}

/** GET /login/two-factor: only for a login waiting for its second factor. */
export function twoFactorLoginPages(app: App, ctx: Context): void {
  app.get('/login/two-factor', async (request, reply) => {
    const next = safeNext((request.query as Record<string, unknown>).next);
    const { csrf, auth } = await pageBase(ctx, request, reply);
    if (!auth) return reply.redirect('/login?expired=1', 303);
    if (!auth.session.pending) return reply.redirect(next ?? '/settings', 303);
    return sendPage(reply, <TwoFactorLoginPage csrf={csrf} email={auth.email} next={next} />);
  });
}
