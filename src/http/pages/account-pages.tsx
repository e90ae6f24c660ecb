import { applyLoginCookies } from '../api/two-factor.js';
import { PENDING_LOGIN_MS } from '../../core/session.js';
import { countLogin } from '../../service/metrics.js';
import { login, logout, signup } from '../../service/accounts.js';
import type { Context } from '../../service/context.js';
import { clearCookie, cookieNames, readCookie, setCookie } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Field, Form, FormAlert, fieldFailure, formFailure, readForm, type FormFailure } from './forms.js';
import { Card, Layout, Notice, PageHeading } from './layout.js';
import { continueNext } from '../authz/continue.js';
import { safeNext, withNext } from './next-path.js';
import { pageBase } from './page-context.js';
import { sendPage } from './render.js';
import { KEY_SCRIPTS } from './security-key-views.js';
import { PasskeySignInForm, type PasskeySignInState } from './passkey-login.js';

export interface CredentialsPageProps {
  csrf: string;
  email?: string;
  next?: string | undefined;
  failure?: FormFailure | undefined;
  notice?: string | undefined;
}

export function LoginPage({ csrf, email, next, failure, notice, signupOpen, passkey }: CredentialsPageProps & { signupOpen: boolean; passkey: PasskeySignInState }) {
  const errors = failure?.fields ?? {};
  return (
    <Layout title="Log in" hasErrors={!!failure || !!passkey.failure} scripts={KEY_SCRIPTS}>
      <Card>
        <PageHeading title="Log in" />
        {notice ? <Notice>{notice}</Notice> : null}
        <FormAlert message={failure?.form} />
        <Form action={withNext('/login', next)} csrf={csrf}>
          {/* "webauthn": browsers offer this site's passkeys in the field's autofill (conditional mediation). */}
          <Field
            name="email"
            label="Email"
            type="email"
            value={email}
            autocomplete="username webauthn"
            spellcheck={false}
            autocapitalize="none"
            required
            autofocus={!!errors.email || (!failure && !passkey.failure)}
            error={errors.email}
          />
          <Field name="password" label="Password" type="password" autocomplete="current-password" required autofocus={!errors.email && !!errors.password} error={errors.password} />
          <Button block>Log in</Button>
        </Form>
        <p>
          <a href="/password/forgot">Forgot password?</a>
        </p>
        <PasskeySignInForm csrf={csrf} next={next} state={passkey} />
      </Card>
      {signupOpen ? (
        <p class="below-card">
          New here? <a href="/signup">Create an account</a>
        </p>
      ) : null}
    </Layout>
  );
}

export function SignupPage({ csrf, email, failure, signupOpen }: CredentialsPageProps & { signupOpen: boolean }) {
  const errors = failure?.fields ?? {};
  return (
    <Layout title="Create account" hasErrors={!!failure}>
      <Card>
        <PageHeading title="Create account" lead={signupOpen ? 'Sign up with your email and a password. You can add two-factor authentication right after.' : undefined} />
        {signupOpen ? (
          <>
            <FormAlert message={failure?.form} />
            <Form action="/signup" csrf={csrf}>
              <Field name="email" label="Email" type="email" value={email} autocomplete="email" spellcheck={false} autocapitalize="none" required autofocus={!!errors.email || !failure} error={errors.email} />
              <Field
                name="password"
                label="Password"
                type="password"
                autocomplete="new-password"
                hint="At least 8 characters. A few unrelated words make a strong password."
                required
                autofocus={!errors.email && !!errors.password}
                error={errors.password}
              />
              <Button block>Create account</Button>
            </Form>
          </>
        ) : (
          <Notice>New accounts on this service are created by its operator. Ask them for an account.</Notice>
        )}
      </Card>
      <p class="below-card">
        Already have an account? <a href="/login">Log in</a>
      </p>
    </Layout>
  );
}

const LOGIN_NOTICES: Record<string, string> = {
  reset: 'Your password was changed and every session was signed out. Log in with the new password.',
  secured: 'Your account is secured: every session was signed out. Log in to get a link for a new password.',
  expired: 'Your login expired or was not finished. Log in again.',
  logged_out: 'You have logged out.',
  account_deleted: 'Your account was deleted.',
};

/** Signup, login, logout and the start page. */
export function accountPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);
  const signupOpen = () => ctx.config.signup === 'open';

  app.get('/', async (request, reply) => {
    const { auth } = await pageBase(ctx, request, reply);
    if (!auth) return reply.redirect('/login', 303);
    return reply.redirect(auth.session.pending ? '/login/two-factor' : '/settings', 303);
  });

  app.get('/login', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    // Forward auth sends people here with ?rd=<the protected URL>; it travels on as `next`.
    const next = safeNext(query.next) ?? continueNext(ctx, query.rd);
    const { csrf, auth } = await pageBase(ctx, request, reply);
    // `fresh`: an application asked for a new login (OpenID Connect prompt=login, max_age).
    if (auth && !auth.session.pending && query.fresh === undefined) return reply.redirect(next ?? '/settings', 303);
    const notice = (['expired', 'logged_out', 'account_deleted', 'reset', 'secured'] as const).filter((k) => query[k] !== undefined).map((k) => LOGIN_NOTICES[k])[0];
    return sendPage(reply, <LoginPage csrf={csrf} next={next} notice={notice} signupOpen={signupOpen()} passkey={{ rpId: ctx.config.publicUrl.hostname }} />);
  });

  app.post('/login', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNext(query.next) ?? continueNext(ctx, query.rd);
    const form = readForm(request, ['email', 'password']);
    const { csrf, auth } = await pageBase(ctx, request, reply);
    const show = (failure: FormFailure) =>
      sendPage(
        reply,
        <LoginPage csrf={csrf} email={form.email} next={next} failure={failure} signupOpen={signupOpen()} passkey={{ rpId: ctx.config.publicUrl.hostname }} />,
        failure.status,
        failure.headers,
      );
    if (!form.email.trim()) return show(fieldFailure('email', 'Enter your email address.'));
    if (!form.password) return show(fieldFailure('password', 'Enter your password.'));
    try {
      const result = await countLogin(
        login(ctx, { email: form.email, password: form.password }, requestMeta(request), {
          replaces: auth?.session.id,
          deviceToken: readCookie(request, names.device),
        }),
      );
      if (result.status === 'two_factor_required') {
        setCookie(reply, ctx.config, names.session, result.token, PENDING_LOGIN_MS);
        return reply.redirect(withNext('/login/two-factor', next), 303);
      }
      applyLoginCookies(reply, ctx, result);
      // An account recovery just removed every factor (SPEC §12): set one up again first.
      if (result.accountRecovered) return reply.redirect('/settings?notice=account_recovered', 303);
      return reply.redirect(next ?? '/settings', 303);
    } catch (err) {
      return show(formFailure(err));
    }
  });

  app.get('/signup', async (request, reply) => {
    const { csrf, auth } = await pageBase(ctx, request, reply);
    if (auth && !auth.session.pending) return reply.redirect('/settings', 303);
    return sendPage(reply, <SignupPage csrf={csrf} signupOpen={signupOpen()} />);
  });

  app.post('/signup', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['email', 'password']);
    const { csrf, auth } = await pageBase(ctx, request, reply);
    const show = (failure: FormFailure) =>
      sendPage(reply, <SignupPage csrf={csrf} email={form.email} failure={failure} signupOpen={signupOpen()} />, failure.status, failure.headers);
    if (!form.email.trim()) return show(fieldFailure('email', 'Enter your email address.'));
    if (!form.password) return show(fieldFailure('password', 'Choose a password.'));
    try {
      const { token } = await signup(ctx, { email: form.email, password: form.password }, requestMeta(request), auth?.session.id);
      setCookie(reply, ctx.config, names.session, token, ctx.config.sessionMaxMs);
      return reply.redirect('/settings', 303);
    } catch (err) {
      return show(formFailure(err));
    }
  });

  app.post('/logout', async (request, reply) => {
    const { auth } = await pageBase(ctx, request, reply);
    if (auth) await logout(ctx, auth.session, requestMeta(request));
    clearCookie(reply, ctx.config, names.session);
    return reply.redirect('/login?logged_out=1', 303);
  });
}
