import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { reauthenticateWithSecurityKey } from '../../service/security-keys.js';
import { reauthenticate } from '../../service/two-factor-login.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Field, FormAlert, formFailure, readForm, SubmitOrCancel, type FormFailure } from './forms.js';
import { Card, CsrfField, Layout, PageHeading } from './layout.js';
import { safeNext, withNext } from './next-path.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { CodeField, codeFailure, emptyCodeMessage } from './second-factor-fields.js';
import { GARBLED_RESPONSE, KEY_RESPONSE_MAX, KEY_SCRIPTS, KeyButton, KeyNeedsJavaScript, KeyStatus, NEEDS_JAVASCRIPT, parseKeyResponse } from './security-key-views.js';

/** The second factor asked for with the password; null when two-factor authentication is off. */
export type ReauthMode = 'totp' | 'recovery_code' | 'webauthn';

export interface ReauthenticatePageProps {
  csrf: string;
  email: string;
  next?: string | undefined;
  mode: ReauthMode | null;
  hasApp: boolean;
  hasKey?: boolean;
  failure?: FormFailure | undefined;
}

const LEADS: Record<ReauthMode | 'none', string> = {
  none: 'For your security, enter your password again before this change.',
  totp: 'For your security, enter your password and a code from your authenticator app before this change.',
  recovery_code: 'For your security, enter your password and one of your recovery codes before this change.',
  webauthn: 'For your security, enter your password and use your security key before this change.',
};

const ALT_WORDS: Record<ReauthMode, string> = {
  totp: 'Use a code from your authenticator app',
  recovery_code: 'Use a recovery code',
  webauthn: 'Use your security key',
};

function reauthUrl(mode: ReauthMode, next: string | undefined): string {
  return withNext(mode === 'totp' ? '/reauthenticate' : `/reauthenticate?method=${mode}`, next);
}

/** "Confirm it's you": the password, and a second factor when the account has one. */
export function ReauthenticatePage({ csrf, email, next, mode, hasApp, hasKey = false, failure }: ReauthenticatePageProps) {
  const errors = failure?.fields ?? {};
  const byKey = mode === 'webauthn';
  const others = mode
    ? ([hasApp ? 'totp' : null, hasKey ? 'webauthn' : null, 'recovery_code'] as const).filter((m): m is ReauthMode => m !== null && m !== mode)
    : [];
  return (
    <Layout title="Confirm it’s you" user={{ email }} csrf={csrf} hasErrors={!!failure} scripts={byKey ? KEY_SCRIPTS : []}>
      <Card>
        <PageHeading title="Confirm it’s you" lead={LEADS[mode ?? 'none']} />
        <FormAlert message={failure?.form} />
        <form
          method="post"
          action={mode ? reauthUrl(mode, next) : withNext('/reauthenticate', next)}
          class="form"
          novalidate
          id={byKey ? 'security-key-reauth' : undefined}
          data-options-url={byKey ? '/api/v1/me/reauthenticate/webauthn/options' : undefined}
        >
          <CsrfField token={csrf} />
          {mode ? <input type="hidden" name="method" value={mode} /> : null}
          {byKey ? <input type="hidden" name="response" value="" /> : null}
          <Field
            name="password"
            label="Password"
            type="password"
            autocomplete="current-password"
            required
            autofocus={!failure || !!errors.password || byKey}
            error={errors.password}
          />
          {mode && !byKey ? <CodeField mode={mode} error={errors.code} autofocus={!!failure && !errors.password && !!errors.code} /> : null}
          {byKey ? (
            <KeyNeedsJavaScript>Security keys need JavaScript, which is turned off in this browser. Turn it on for this site, or confirm another way below.</KeyNeedsJavaScript>
          ) : null}
          <SubmitOrCancel>
            {byKey ? <KeyButton>Use security key</KeyButton> : <Button>Confirm</Button>}
          </SubmitOrCancel>
          {byKey ? <KeyStatus /> : null}
        </form>
        {others.length > 0 ? (
          <p class="alt-method alt-methods">
            {others.map((m) => (
              <a href={reauthUrl(m, next)} data-key-fallback={m === 'recovery_code' || m === 'totp' ? '' : undefined}>
                {ALT_WORDS[m]}
              </a>
            ))}
          </p>
        ) : null}
      </Card>
    </Layout>
  );
}

export function reauthenticatePages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  /** The mode asked for when the account has it; else the app, else a key, else a recovery code. */
  const modeFor = async (userId: string, asked: unknown) => {
    const status = await twoFactorStatus(ctx.db, userId);
    const hasApp = status.totp;
    const hasKey = status.securityKeys > 0;
    if (!isTwoFactorEnabled(status)) return { mode: null, hasApp, hasKey };
    const mode: ReauthMode =
      asked === 'recovery_code' ? 'recovery_code' : asked === 'webauthn' && hasKey ? 'webauthn' : hasApp ? 'totp' : hasKey ? 'webauthn' : 'recovery_code';
    return { mode, hasApp, hasKey };
  };

  app.get('/reauthenticate', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const { mode, hasApp, hasKey } = await modeFor(auth.session.userId, query.method);
    return sendPage(reply, <ReauthenticatePage csrf={csrf} email={auth.email} next={safeNext(query.next)} mode={mode} hasApp={hasApp} hasKey={hasKey} />);
  });

  app.post('/reauthenticate', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNext(query.next);
    const form = readForm(request, ['password', 'method', 'code', 'response'], { maxLength: { response: KEY_RESPONSE_MAX } });
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const { mode, hasApp, hasKey } = await modeFor(auth.session.userId, form.method || query.method);
    const show = (failure: FormFailure) =>
      sendPage(
        reply,
        <ReauthenticatePage csrf={csrf} email={auth.email} next={next} mode={mode} hasApp={hasApp} hasKey={hasKey} failure={failure} />,
        failure.status,
        failure.headers,
      );
    const missing: Record<string, string> = {};
    if (!form.password) missing.password = 'Enter your password.';
    if (mode && mode !== 'webauthn' && !form.code.trim()) missing.code = emptyCodeMessage(mode);
    if (Object.keys(missing).length > 0) return show({ status: 400, headers: {}, fields: missing });
    const meta = requestMeta(request);
    if (mode === 'webauthn') {
      if (!form.response.trim()) return show({ status: 400, headers: {}, fields: {}, form: NEEDS_JAVASCRIPT });
      const response = parseKeyResponse(form.response);
      if (response === undefined) return show({ status: 400, headers: {}, fields: {}, form: GARBLED_RESPONSE });
      try {
        await reauthenticateWithSecurityKey(ctx, auth.session, { password: form.password, response }, meta);
      } catch (err) {
        // A wrong password belongs to its field; a refused key to the form (the lock on codes is not its business).
        if (err instanceof AppError && err.code === 'invalid_credentials') return show(await codeFailure(ctx, auth.session.userId, err));
        return show(formFailure(err));
      }
    } else {
      try {
        await reauthenticate(ctx, auth.session, { password: form.password, ...(mode ? { method: mode, code: form.code } : {}) }, meta);
      } catch (err) {
        return show(await codeFailure(ctx, auth.session.userId, err));
      }
    }
    return reply.redirect(next ?? '/settings', 303);
  });
}
