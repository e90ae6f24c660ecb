import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { loginWithSecurityKey } from '../../service/security-keys.js';
import { completeTwoFactorLogin, type TwoFactorLoginResult } from '../../service/two-factor-login.js';
import { twoFactorStatus, type TwoFactorStatus } from '../../store/two-factor-status.js';
import { applyLoginCookies } from '../api/two-factor.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Checkbox, Form, FormAlert, fieldFailure, formFailure, readForm, type FormFailure } from './forms.js';
import { Card, CsrfField, Layout, PageHeading } from './layout.js';
import { safeNext, withNext } from './next-path.js';
import { pageBase } from './page-context.js';
import { sendPage } from './render.js';
import { CodeField, codeFailure, codeModeOf, emptyCodeMessage, modeUrl, type CodeMode } from './second-factor-fields.js';
import { GARBLED_RESPONSE, KEY_RESPONSE_MAX, KEY_SCRIPTS, KeyNeedsJavaScript, KeyStatus, NEEDS_JAVASCRIPT, parseKeyResponse } from './security-key-views.js';

/**
 * What the page leads with: the app code, a recovery code, or (an account with security keys and no
 * app) the key, since a code field the person has no app for would only be in the way.
 */
export type LoginMode = CodeMode | 'webauthn';

export interface TwoFactorLoginPageProps {
  csrf: string;
  /** The only thing of the account this page shows. */
  email: string;
  next?: string | undefined;
  failure?: FormFailure | undefined;
  mode?: LoginMode;
  /** Whether the account has an authenticator app (else only recovery codes and keys are offered here). */
  hasApp?: boolean;
  /** Whether the account has security keys: then "Use security key" is offered. */
  hasKey?: boolean;
  trust?: boolean;
}

const LEADS: Record<LoginMode, string> = {
  totp: 'Open your authenticator app and enter the 6-digit code it shows for this account.',
  recovery_code: 'No phone or key at hand? Enter one of the recovery codes you saved when you set up two-factor authentication.',
  webauthn: 'Use your security key to finish logging in: press the button, then touch the key when it blinks.',
};

const TRUST_LABEL = 'Trust this device for 30 days';
const TRUST_HINT = 'Only on a device you alone use. Logins here will not ask for a second step until then.';

/** The mode of the page for this account: `asked` when the account has it, else what it has. */
export function loginModeOf(status: TwoFactorStatus, asked: unknown): LoginMode {
  if (asked === 'recovery_code') return 'recovery_code';
  if (status.totp) return 'totp';
  return status.securityKeys > 0 ? 'webauthn' : 'recovery_code';
}

/** The link back to this page in the given mode ("?method=recovery_code" or the default). */
function pageUrl(mode: LoginMode, next: string | undefined): string {
  return modeUrl('/login/two-factor', mode === 'recovery_code' ? 'recovery_code' : 'totp', next);
}

/**
 * The "Use security key" form. Hidden until the script has checked that the browser can use keys;
 * it then runs the prompt and posts the key's answer here. With `trust`, the trust checkbox lives
 * in this form; otherwise the script copies the code form's checkbox into the hidden field.
 */
function SecurityKeyLoginForm({ csrf, action, primary, trust }: { csrf: string; action: string; primary: boolean; trust?: boolean | undefined }) {
  return (
    <form id="security-key-login" method="post" action={action} class="form" novalidate hidden data-options-url="/api/v1/login/two-factor/webauthn/options">
      {primary ? null : (
        <p class="or-divider">
          <span>or</span>
        </p>
      )}
      <CsrfField token={csrf} />
      <input type="hidden" name="method" value="webauthn" />
      <input type="hidden" name="response" value="" />
      {primary ? (
        <Checkbox name="trust" label={TRUST_LABEL} checked={trust} hint={TRUST_HINT} />
      ) : (
        <input type="hidden" name="trustDevice" value="" />
      )}
      <Button block variant={primary ? 'primary' : 'secondary'}>
        Use security key
      </Button>
      <KeyStatus />
    </form>
  );
}

/** The second step of a login: a code from the authenticator app, a security key, or a recovery code. */
export function TwoFactorLoginPage({ csrf, email, next, failure, mode = 'totp', hasApp = true, hasKey = false, trust }: TwoFactorLoginPageProps) {
  const errors = failure?.fields ?? {};
  const title = mode === 'recovery_code' ? 'Use a recovery code' : 'Two-factor authentication';
  const action = pageUrl(mode, next);
  return (
    <Layout title={title} pendingEmail={email} hasErrors={!!failure} scripts={hasKey ? KEY_SCRIPTS : []}>
      <Card>
        <PageHeading title={title} lead={LEADS[mode]} />
        <FormAlert message={failure?.form} />
        {mode === 'webauthn' ? (
          <>
            <SecurityKeyLoginForm csrf={csrf} action={action} primary trust={trust} />
            <KeyNeedsJavaScript>Security keys need JavaScript, which is turned off in this browser. Turn it on for this site, or use a recovery code.</KeyNeedsJavaScript>
            <p class="key-unsupported" data-key-unsupported hidden>
              This browser cannot use security keys. Try another browser, or use a recovery code.
            </p>
          </>
        ) : (
          <>
            <Form action={action} csrf={csrf}>
              <input type="hidden" name="method" value={mode} />
              <CodeField mode={mode} error={errors.code} autofocus />
              <Checkbox name="trust" label={TRUST_LABEL} checked={trust} hint={TRUST_HINT} />
              <Button block>Verify</Button>
            </Form>
            {hasKey ? <SecurityKeyLoginForm csrf={csrf} action={action} primary={false} /> : null}
          </>
        )}
        <p class="alt-method">
          {mode !== 'recovery_code' ? (
            <a href={pageUrl('recovery_code', next)} data-key-fallback>
              Use a recovery code
            </a>
          ) : hasApp ? (
            <a href={pageUrl('totp', next)}>Use a code from your authenticator app</a>
          ) : hasKey ? (
            <a href={pageUrl('webauthn', next)}>Use your security key</a>
          ) : null}
        </p>
      </Card>
      <p class="below-card">
        <a href="/login/recovery">Lost access to your authenticator and recovery codes?</a>
      </p>
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
    const mode = loginModeOf(status, query.method);
    return sendPage(
      reply,
      <TwoFactorLoginPage csrf={csrf} email={auth.email} next={next} mode={mode} hasApp={status.totp} hasKey={status.securityKeys > 0} />,
    );
  });

  app.post('/login/two-factor', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNext(query.next);
    const form = readForm(request, ['method', 'code', 'trust', 'trustDevice', 'response'], { maxLength: { response: KEY_RESPONSE_MAX } });
    const { csrf, auth } = await pageBase(ctx, request, reply);
    if (!auth) return reply.redirect(withNext('/login?expired=1', next), 303);
    if (!auth.session.pending) return reply.redirect(next ?? '/settings', 303);
    const byKey = form.method === 'webauthn';
    // The checkbox ("trust"), or the key form's copy of it ("trustDevice").
    const trust = form.trust !== '' || form.trustDevice !== '';
    const status = await twoFactorStatus(ctx.db, auth.session.userId);
    // What was tried, and the page to show again: a refused key shows the page whose button was
    // pressed (its URL carries the mode); a code, its own mode when the account has it.
    const tried = codeModeOf(form.method || query.method);
    const mode = byKey ? loginModeOf(status, query.method) : tried === 'totp' && !status.totp ? loginModeOf(status, undefined) : tried;
    const show = (failure: FormFailure) =>
      sendPage(
        reply,
        <TwoFactorLoginPage
          csrf={csrf}
          email={auth.email}
          next={next}
          failure={failure}
          mode={mode}
          hasApp={status.totp}
          hasKey={status.securityKeys > 0}
          trust={trust}
        />,
        failure.status,
        failure.headers,
      );
    const expired = (err: unknown) => err instanceof AppError && err.code === 'no_pending_login';
    let result: TwoFactorLoginResult;
    if (byKey) {
      if (!form.response.trim()) return show({ status: 400, headers: {}, fields: {}, form: NEEDS_JAVASCRIPT });
      const response = parseKeyResponse(form.response);
      if (response === undefined) return show({ status: 400, headers: {}, fields: {}, form: GARBLED_RESPONSE });
      try {
        result = await loginWithSecurityKey(ctx, auth, { response, trustDevice: trust }, requestMeta(request));
      } catch (err) {
        if (expired(err)) return reply.redirect(withNext('/login?expired=1', next), 303);
        // A refused key is said above the forms: it has no field, and the lock on codes is not its business.
        return show(formFailure(err));
      }
    } else {
      if (!form.code.trim()) return show(fieldFailure('code', emptyCodeMessage(tried)));
      try {
        result = await completeTwoFactorLogin(ctx, auth, { method: tried, code: form.code, trustDevice: trust }, requestMeta(request));
      } catch (err) {
        if (expired(err)) return reply.redirect(withNext('/login?expired=1', next), 303);
        return show(await codeFailure(ctx, auth.session.userId, err));
      }
    }
    applyLoginCookies(reply, ctx, result);
    const target = next ?? '/settings';
    if (result.recoveryCodesRemaining === undefined) return reply.redirect(target, 303);
    // A flash for the next page: how many codes are left (a count, nothing secret).
    return reply.redirect(`${target}${target.includes('?') ? '&' : '?'}codes_left=${result.recoveryCodesRemaining}`, 303);
  });
}
