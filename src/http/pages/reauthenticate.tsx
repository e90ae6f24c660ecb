import type { Context } from '../../service/context.js';
import { reauthenticate } from '../../service/two-factor-login.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Field, Form, FormAlert, readForm, type FormFailure } from './forms.js';
import { Card, Layout, PageHeading } from './layout.js';
import { safeNext } from './next-path.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { CodeField, codeFailure, codeModeOf, emptyCodeMessage, modeUrl, type CodeMode } from './second-factor-fields.js';

export interface ReauthenticatePageProps {
  csrf: string;
  email: string;
  next?: string | undefined;
  /** null: two-factor authentication is off, only the password is asked. */
  mode: CodeMode | null;
  hasApp: boolean;
  failure?: FormFailure | undefined;
}

/** "Confirm it's you": the password, and a second factor when the account has one. */
export function ReauthenticatePage({ csrf, email, next, mode, hasApp, failure }: ReauthenticatePageProps) {
  const errors = failure?.fields ?? {};
  const lead =
    mode === null
      ? 'For your security, enter your password again before this change.'
      : mode === 'totp'
        ? 'For your security, enter your password and a code from your authenticator app before this change.'
        : 'For your security, enter your password and one of your recovery codes before this change.';
  return (
    <Layout title="Confirm it’s you" user={{ email }} csrf={csrf} hasErrors={!!failure}>
      <Card>
        <PageHeading title="Confirm it’s you" lead={lead} />
        <FormAlert message={failure?.form} />
        <Form action={modeUrl('/reauthenticate', mode ?? 'totp', next)} csrf={csrf}>
          {mode ? <input type="hidden" name="method" value={mode} /> : null}
          <Field
            name="password"
            label="Password"
            type="password"
            autocomplete="current-password"
            required
            autofocus={!failure || !!errors.password}
            error={errors.password}
          />
          {mode ? <CodeField mode={mode} error={errors.code} autofocus={!!failure && !errors.password && !!errors.code} /> : null}
          <div class="actions actions-compact">
            <Button>Confirm</Button>
            <a class="button button-secondary" href="/settings">
              Cancel
            </a>
          </div>
        </Form>
        {mode ? (
          <p class="alt-method">
            {mode === 'totp' ? (
              <a href={modeUrl('/reauthenticate', 'recovery_code', next)}>Use a recovery code</a>
            ) : hasApp ? (
              <a href={modeUrl('/reauthenticate', 'totp', next)}>Use a code from your authenticator app</a>
            ) : null}
          </p>
        ) : null}
      </Card>
    </Layout>
  );
}

export function reauthenticatePages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const modeFor = async (userId: string, asked: unknown) => {
    const status = await twoFactorStatus(ctx.db, userId);
    if (!isTwoFactorEnabled(status)) return { mode: null, hasApp: false };
    return { mode: status.totp ? codeModeOf(asked) : ('recovery_code' as const), hasApp: status.totp };
  };

  app.get('/reauthenticate', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const { mode, hasApp } = await modeFor(auth.session.userId, query.method);
    return sendPage(reply, <ReauthenticatePage csrf={csrf} email={auth.email} next={safeNext(query.next)} mode={mode} hasApp={hasApp} />);
  });

  app.post('/reauthenticate', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNext(query.next);
    const form = readForm(request, ['password', 'method', 'code']);
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const { mode, hasApp } = await modeFor(auth.session.userId, form.method || query.method);
    const show = (failure: FormFailure) =>
      sendPage(reply, <ReauthenticatePage csrf={csrf} email={auth.email} next={next} mode={mode} hasApp={hasApp} failure={failure} />, failure.status, failure.headers);
    const missing: Record<string, string> = {};
    if (!form.password) missing.password = 'Enter your password.';
    if (mode && !form.code.trim()) missing.code = emptyCodeMessage(mode);
    if (Object.keys(missing).length > 0) return show({ status: 400, headers: {}, fields: missing });
    try {
      await reauthenticate(ctx, auth.session, { password: form.password, ...(mode ? { method: mode, code: form.code } : {}) }, requestMeta(request));
    } catch (err) {
      return show(await codeFailure(ctx, auth.session.userId, err));
    }
    return reply.redirect(next ?? '/settings', 303);
  });
}
