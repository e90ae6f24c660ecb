import type { FastifyReply } from 'fastify';
import type { Context } from '../../service/context.js';
import { openEmailLink, requestEmailChange, resendVerification } from '../../service/mail/email-address.js';
import { openResetLink, requestPasswordReset, resetPassword, type ResetLink } from '../../service/mail/password-reset.js';
import { findSecureLink, secureAccount } from '../../service/mail/secure-account.js';
import { AppError } from '../../service/errors.js';
import { forgotRateLimit } from '../api/mail.js';
import { clearCookie, cookieNames } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Field, Form, FormAlert, fieldFailure, formFailure, readForm, SubmitOrCancel, type FormFailure } from './forms.js';
import { Badge, Card, CsrfField, Layout, Notice, PageHeading } from './layout.js';
import { GARBLED_RESPONSE, KEY_RESPONSE_MAX, KEY_SCRIPTS, KeyNeedsJavaScript, KeyStatus, parseKeyResponse } from './security-key-views.js';
import { pageBase, signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { CodeField, codeFailure, codeModeOf, emptyCodeMessage, fresh, isReauthRequired, toReauthenticate, type CodeMode } from './second-factor-fields.js';

/*
 * The pages of SPEC §7: links from mail (verify, reset, secure), forgot password, and the email
 * address in settings. None needs JavaScript. (Their Referrer-Policy stays same-origin: under
 * no-referrer a browser sends `Origin: null` with the page's own form, which the Origin check refuses;
 * same-origin sends a link's token only back to this server, whose logs redact it.)
 */

/** The token of a link, from the query; anything else is ''. */
export function queryToken(query: unknown): string {
  const v = (query as Record<string, unknown> | null)?.token;
  return typeof v === 'string' && v.length <= 128 ? v : '';
}

function LinkResult({ title, ok, message, user, csrf }: { title: string; ok: boolean; message: string; user: { email: string } | null; csrf: string }) {
  return (
    <Layout title={title} user={user} csrf={csrf} hasErrors={!ok}>
      <Card>
        <PageHeading title={title} />
        <Notice kind={ok ? 'success' : 'error'}>{message}</Notice>
        <p>{user ? <a href="/settings">Back to Account settings</a> : <a href="/login">Log in</a>}</p>
        {!ok && !user ? (
          <p>
            <a href="/password/forgot">Ask for a new password reset link</a>
          </p>
        ) : null}
      </Card>
    </Layout>
  );
}

// ---- settings: the email address ----

export function EmailSection({ csrf, email, verified }: { csrf: string; email: string; verified: boolean }) {
  return (
    <Card heading="Email address" id="email" aside={<Badge tone={verified ? 'on' : 'off'}>{verified ? 'verified' : 'not verified'}</Badge>}>
      <p>
        <strong>{email}</strong>
      </p>
      <p class="hint">
        {verified
          ? 'Password reset links and security notices go to this address.'
          : 'Not confirmed yet: open the link we sent to this address, so that it can be used to reset your password.'}
      </p>
      <div class="actions actions-compact">
        {verified ? null : (
          <Form action="/settings/email/verification" csrf={csrf} class="inline-form">
            <Button variant="secondary">Resend confirmation email</Button>
          </Form>
        )}
        <a class="button button-secondary" href="/settings/email">
          Change email
        </a>
      </div>
    </Card>
  );
}

function ChangeEmailPage({ csrf, email, value, failure }: { csrf: string; email: string; value?: string; failure?: FormFailure | undefined }) {
  const errors = failure?.fields ?? {};
  return (
    <Layout title="Change email" user={{ email }} csrf={csrf} hasErrors={!!failure}>
      <Card>
        <PageHeading title="Change email" lead={`Now: ${email}. We send a link to the new address; it changes when you open it, and the old address is told.`} />
        <FormAlert message={failure?.form} />
        <Form action="/settings/email" csrf={csrf}>
          <Field name="email" label="Email address" type="email" value={value} autocomplete="email" spellcheck={false} autocapitalize="none" required autofocus error={errors.email} />
          <SubmitOrCancel>
            <Button>Change email</Button>
          </SubmitOrCancel>
        </Form>
      </Card>
    </Layout>
  );
}

// ---- forgot / reset ----

const FORGOT_ANSWER = 'If an account exists for that address, we sent it a link to set a new password. The link works for 30 minutes. Check your spam folder if it does not arrive.';

function ForgotPage({ csrf, value, failure, sent }: { csrf: string; value?: string; failure?: FormFailure | undefined; sent?: boolean }) {
  const errors = failure?.fields ?? {};
  return (
    <Layout title="Forgot password" hasErrors={!!failure}>
      <Card>
        <PageHeading title="Forgot password" lead="Enter the email address of your account. We will send you a link to set a new password." />
        {sent ? <Notice kind="success">{FORGOT_ANSWER}</Notice> : null}
        <FormAlert message={failure?.form} />
        <Form action="/password/forgot" csrf={csrf}>
          <Field name="email" label="Email" type="email" value={value} autocomplete="username" spellcheck={false} autocapitalize="none" required autofocus={!sent} error={errors.email} />
          <Button block>Send reset link</Button>
        </Form>
      </Card>
      <p class="below-card">
        Remembered it? <a href="/login">Log in</a>
      </p>
    </Layout>
  );
}

function resetUrl(token: string, mode: CodeMode): string {
  return `/password/reset?token=${encodeURIComponent(token)}${mode === 'recovery_code' ? '&method=recovery_code' : ''}`;
}

function ResetPage({ csrf, token, link, mode, failure }: { csrf: string; token: string; link: ResetLink; mode: CodeMode; failure?: FormFailure | undefined }) {
  const errors = failure?.fields ?? {};
  const tf = link.twoFactor;
  // Without an app, recovery codes are the code this page can take.
  const codeMode: CodeMode = tf.totp ? mode : 'recovery_code';
  return (
    <Layout title="Set a new password" hasErrors={!!failure} scripts={tf.securityKeys ? KEY_SCRIPTS : []}>
      <Card>
        <PageHeading
          title="Set a new password"
          lead={
            tf.enabled
              ? `For ${link.user.email}. Two-factor authentication is on, so also confirm it is you with your second factor.`
              : `For ${link.user.email}. Every session and trusted device will be signed out.`
          }
        />
        <FormAlert message={failure?.form} />
        <Form action="/password/reset" csrf={csrf}>
          <input type="hidden" name="token" value={token} />
          <input type="hidden" name="username" value={link.user.email} autocomplete="username" />
          <Field
            name="password"
            label="New password"
            type="password"
            autocomplete="new-password"
            hint="8 to 256 characters. A few unrelated words make a strong one."
            required
            autofocus={!errors.code}
            error={errors.password}
          />
          {tf.enabled ? (
            <>
              <input type="hidden" name="method" value={codeMode} />
              <CodeField mode={codeMode} error={errors.code} autofocus={!!errors.code} />
            </>
          ) : null}
          <Button block>Set new password</Button>
        </Form>
        {tf.enabled ? (
          <p>
            {codeMode === 'totp' && tf.recoveryCodes ? <a href={resetUrl(token, 'recovery_code')}>Use a recovery code</a> : null}
            {codeMode === 'recovery_code' && tf.totp ? <a href={resetUrl(token, 'totp')}>Use your authenticator app</a> : null}
          </p>
        ) : null}
        {tf.securityKeys ? (
          <>
            {/* The key's answer is posted with the new password typed above (the script copies it in). */}
            <form id="security-key-reset" method="post" action="/password/reset" class="form" novalidate hidden data-options-url={`/api/v1/password/reset/webauthn/options?token=${encodeURIComponent(token)}`}>
              <p class="or-divider">
                <span>or</span>
              </p>
              <CsrfField token={csrf} />
              <input type="hidden" name="token" value={token} />
              <input type="hidden" name="method" value="webauthn" />
              <input type="hidden" name="password" value="" />
              <input type="hidden" name="response" value="" />
              <Button block variant="secondary">
                Use security key
              </Button>
              <KeyStatus />
            </form>
            <KeyNeedsJavaScript>Security keys need JavaScript: turn it on for this site to use your key here, or use a code.</KeyNeedsJavaScript>
          </>
        ) : null}
      </Card>
    </Layout>
  );
}

// ---- This wasn't me ----

function SecurePage({ csrf, token }: { csrf: string; token: string }) {
  return (
    <Layout title="Secure my account">
      <Card>
        <PageHeading title="Secure your account" lead="If a change to your account was not made by you, someone else may know your password." />
        <p>This will:</p>
        <ul>
          <li>sign out every session, everywhere;</li>
          <li>revoke every trusted device;</li>
          <li>remove the authenticator app or security key the message told you was added;</li>
          <li>ask for a new password, with a link sent to your email, before anyone can sign in again.</li>
        </ul>
        <Form action="/account/secure" csrf={csrf}>
          <input type="hidden" name="token" value={token} />
          <Button variant="danger" block>
            Secure my account
          </Button>
        </Form>
      </Card>
    </Layout>
  );
}

/** Pages reached from links in mail, forgot password, and the email address in settings (SPEC §7). */
export function mailPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);

  const linkProblem = (reply: FastifyReply, err: unknown, csrf: string, user: { email: string } | null) => {
    if (!(err instanceof AppError) || err.statusCode >= 500) throw err;
    return sendPage(reply, <LinkResult title="Link not valid" ok={false} message={err.message} user={user} csrf={csrf} />, err.statusCode);
  };

  // Opening the link is what verifies (SPEC §7), signed in or not.
  app.get('/email/verify', async (request, reply) => {
    const { csrf, auth } = await pageBase(ctx, request, reply);
    const user = auth && !auth.session.pending ? { email: auth.email } : null;
    try {
      const r = await openEmailLink(ctx, queryToken(request.query), requestMeta(request));
      const message = r.kind === 'verified' ? `Thank you: ${r.email} is confirmed as your email address.` : `Your email address is now ${r.email}.`;
      return sendPage(
        reply,
        <LinkResult title={r.kind === 'verified' ? 'Email address confirmed' : 'Email address changed'} ok message={message} user={user ? { email: r.kind === 'changed' ? r.email : user.email } : null} csrf={csrf} />,
      );
    } catch (err) {
      return linkProblem(reply, err, csrf, user);
    }
  });

  app.post('/settings/email/verification', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    readForm(request, []);
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    try {
      await resendVerification(ctx, auth.session.userId, requestMeta(request));
    } catch (err) {
      if (!(err instanceof AppError) || err.statusCode >= 500) throw err;
      return sendPage(reply, <LinkResult title="Confirmation email" ok={false} message={err.message} user={{ email: auth.email }} csrf={csrf} />, err.statusCode, err.headers);
    }
    return reply.redirect('/settings?notice=verification_sent#email', 303);
  });

  app.get('/settings/email', async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, '/settings/email');
    return sendPage(reply, <ChangeEmailPage csrf={csrf} email={auth.email} />);
  });

  app.post('/settings/email', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['email']);
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, '/settings/email');
    const show = (failure: FormFailure) => sendPage(reply, <ChangeEmailPage csrf={csrf} email={auth.email} value={form.email} failure={failure} />, failure.status, failure.headers);
    if (!form.email.trim()) return show(fieldFailure('email', 'Enter the new email address.'));
    try {
      await requestEmailChange(ctx, auth.session.userId, form.email, requestMeta(request));
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, '/settings/email');
      return show(formFailure(err));
    }
    return reply.redirect('/settings?notice=email_change_sent#email', 303);
  });

  app.get('/password/forgot', async (request, reply) => {
    const { csrf } = await pageBase(ctx, request, reply);
    return sendPage(reply, <ForgotPage csrf={csrf} />);
  });

  app.post('/password/forgot', { config: { rateLimit: forgotRateLimit(authRateLimit) } }, async (request, reply) => {
    const form = readForm(request, ['email']);
    const { csrf } = await pageBase(ctx, request, reply);
    const show = (failure: FormFailure) => sendPage(reply, <ForgotPage csrf={csrf} value={form.email} failure={failure} />, failure.status, failure.headers);
    if (!form.email.trim()) return show(fieldFailure('email', 'Enter your email address.'));
    try {
      await requestPasswordReset(ctx, form.email, requestMeta(request));
    } catch (err) {
      return show(formFailure(err));
    }
    return sendPage(reply, <ForgotPage csrf={csrf} sent />);
  });

  app.get('/password/reset', async (request, reply) => {
    const { csrf } = await pageBase(ctx, request, reply);
    const token = queryToken(request.query);
    try {
      const link = await openResetLink(ctx, token);
      return sendPage(reply, <ResetPage csrf={csrf} token={token} link={link} mode={codeModeOf((request.query as Record<string, unknown>).method)} />);
    } catch (err) {
      return linkProblem(reply, err, csrf, null);
    }
  });

  app.post('/password/reset', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['token', 'password', 'method', 'code', 'username', 'response'], { maxLength: { response: KEY_RESPONSE_MAX } });
    const { csrf } = await pageBase(ctx, request, reply);
    let link: ResetLink;
    try {
      link = await openResetLink(ctx, form.token);
    } catch (err) {
      return linkProblem(reply, err, csrf, null);
    }
    const mode = codeModeOf(form.method);
    const show = (failure: FormFailure) => sendPage(reply, <ResetPage csrf={csrf} token={form.token} link={link} mode={mode} failure={failure} />, failure.status, failure.headers);
    if (!form.password) return show(fieldFailure('password', 'Enter a new password.'));
    if (form.method === 'webauthn' && link.twoFactor.securityKeys) {
      const response = parseKeyResponse(form.response);
      if (response === undefined) return show({ status: 400, headers: {}, fields: {}, form: GARBLED_RESPONSE });
      try {
        await resetPassword(ctx, { token: form.token, password: form.password, method: 'webauthn', response }, requestMeta(request));
      } catch (err) {
        if (err instanceof AppError && err.code === 'invalid_token') return linkProblem(reply, err, csrf, null);
        return show(formFailure(err, { code: 'password' }));
      }
      clearCookie(reply, ctx.config, names.session);
      clearCookie(reply, ctx.config, names.device);
      return reply.redirect('/login?reset=1', 303);
    }
    if (link.twoFactor.enabled && !form.code.trim()) return show(fieldFailure('code', emptyCodeMessage(link.twoFactor.totp ? mode : 'recovery_code')));
    try {
      await resetPassword(ctx, { token: form.token, password: form.password, ...(link.twoFactor.enabled ? { method: link.twoFactor.totp ? mode : 'recovery_code', code: form.code } : {}) }, requestMeta(request));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_token') return linkProblem(reply, err, csrf, null);
      return show(await codeFailure(ctx, link.user.id, err));
    }
    clearCookie(reply, ctx.config, names.session);
    clearCookie(reply, ctx.config, names.device);
    return reply.redirect('/login?reset=1', 303);
  });

  app.get('/account/secure', async (request, reply) => {
    const { csrf } = await pageBase(ctx, request, reply);
    const token = queryToken(request.query);
    try {
      await findSecureLink(ctx, token);
    } catch (err) {
      return linkProblem(reply, err, csrf, null);
    }
    return sendPage(reply, <SecurePage csrf={csrf} token={token} />);
  });

  app.post('/account/secure', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['token']);
    const { csrf } = await pageBase(ctx, request, reply);
    try {
      await secureAccount(ctx, form.token, requestMeta(request));
    } catch (err) {
      return linkProblem(reply, err, csrf, null);
    }
    clearCookie(reply, ctx.config, names.session);
    clearCookie(reply, ctx.config, names.device);
    return reply.redirect('/login?secured=1', 303);
  });
}
