import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { completeTwoFactorLogin } from '../../service/two-factor-login.js';
import { twoFactorStatus } from '../../store/two-factor-status.js';
import { applyLoginCookies } from '../api/two-factor.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Checkbox, Form, FormAlert, fieldFailure, readForm, type FormFailure } from './forms.js';
import { Card, Layout, PageHeading } from './layout.js';
import { safeNext, withNext } from './next-path.js';
import { pageBase } from './page-context.js';
import { sendPage } from './render.js';
import { CodeField, codeFailure, codeModeOf, emptyCodeMessage, modeUrl, type CodeMode } from './second-factor-fields.js';

export interface TwoFactorLoginPageProps {
  csrf: string;
  /** The only thing of the account this page shows. */
  email: string;
  next?: string | undefined;
  failure?: FormFailure | undefined;
  /** The app code (default) or a recovery code. */
  mode?: CodeMode;
  /** Whether the account has an authenticator app (else only recovery codes are offered here). */
  hasApp?: boolean;
  trust?: boolean;
}

const LEADS: Record<CodeMode, string> = {
  totp: 'Open your authenticator app and enter the 6-digit code it shows for this account.',
  recovery_code: 'No phone at hand? Enter one of the recovery codes you saved when you set up two-factor authentication.',
};

/** The second step of a login: a 6-digit code from the authenticator app, or a recovery code. */
export function TwoFactorLoginPage({ csrf, email, next, failure, mode = 'totp', hasApp = true, trust }: TwoFactorLoginPageProps) {
  const errors = failure?.fields ?? {};
  return (
    <Layout title={mode === 'totp' ? 'Two-factor authentication' : 'Use a recovery code'} pendingEmail={email} hasErrors={!!failure}>
      <Card>
        <PageHeading title={mode === 'totp' ? 'Two-factor authentication' : 'Use a recovery code'} lead={LEADS[mode]} />
        <FormAlert message={failure?.form} />
        <Form action={modeUrl('/login/two-factor', mode, next)} csrf={csrf}>
          <input type="hidden" name="method" value={mode} />
          <CodeField mode={mode} error={errors.code} autofocus />
          <Checkbox
            name="trust"
            label="Trust this device for 30 days"
            checked={trust}
            hint="Only on a device you alone use. Logins here will not ask for a code until then."
          />
          <Button block>Verify</Button>
        </Form>
        <p class="alt-method">
          {mode === 'totp' ? (
            <a href={modeUrl('/login/two-factor', 'recovery_code', next)}>Use a recovery code</a>
          ) : hasApp ? (
            <a href={modeUrl('/login/two-factor', 'totp', next)}>Use a code from your authenticator app</a>
          ) : null}
        </p>
      </Card>
      <p class="below-card">
        <a href="/login">Log in with another account</a>
      </p>
    </Layout>
  );
}

/** /login/two-factor: only for a login waiting for its second factor. */
export function twoFactorLoginPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  app.get('/login/two-factor', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNext(query.next);
    const { csrf, auth } = await pageBase(ctx, request, reply);
    if (!auth) return reply.redirect(withNext('/login?expired=1', next), 303);
    if (!auth.session.pending) return reply.redirect(next ?? '/settings', 303);
    const status = await twoFactorStatus(ctx.db, auth.session.userId);
    const mode: CodeMode = status.totp ? codeModeOf(query.method) : 'recovery_code';
    return sendPage(reply, <TwoFactorLoginPage csrf={csrf} email={auth.email} next={next} mode={mode} hasApp={status.totp} />);
  });

  app.post('/login/two-factor', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNext(query.next);
    const form = readForm(request, ['method', 'code', 'trust']);
    const { csrf, auth } = await pageBase(ctx, request, reply);
    if (!auth) return reply.redirect(withNext('/login?expired=1', next), 303);
    if (!auth.session.pending) return reply.redirect(next ?? '/settings', 303);
    const mode = codeModeOf(form.method || query.method);
    const trust = form.trust !== '';
    const status = await twoFactorStatus(ctx.db, auth.session.userId);
    const show = (failure: FormFailure) =>
      sendPage(
        reply,
        <TwoFactorLoginPage csrf={csrf} email={auth.email} next={next} failure={failure} mode={mode} hasApp={status.totp} trust={trust} />,
        failure.status,
        failure.headers,
      );
    if (!form.code.trim()) return show(fieldFailure('code', emptyCodeMessage(mode)));
    try {
      const result = await completeTwoFactorLogin(ctx, auth, { method: mode, code: form.code, trustDevice: trust }, requestMeta(request));
      applyLoginCookies(reply, ctx, result);
      const target = next ?? '/settings';
      if (result.recoveryCodesRemaining === undefined) return reply.redirect(target, 303);
      // A flash for the next page: how many codes are left (a count, nothing secret).
      return reply.redirect(`${target}${target.includes('?') ? '&' : '?'}codes_left=${result.recoveryCodesRemaining}`, 303);
    } catch (err) {
      if (err instanceof AppError && err.code === 'no_pending_login') return reply.redirect(withNext('/login?expired=1', next), 303);
      return show(await codeFailure(ctx, auth.session.userId, err));
    }
  });
}
