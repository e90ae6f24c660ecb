import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { completePasskeySignIn } from '../api/passkeys.js';
import type { App } from '../schemas.js';
import { formFailure, readForm, type FormFailure } from './forms.js';
import { CsrfField, Notice } from './layout.js';
import { safeNext, withNext } from './next-path.js';
import { pageBase } from './page-context.js';
import { sendPage } from './render.js';
import { GARBLED_RESPONSE, KEY_RESPONSE_MAX, KeyButton, KeyNeedsJavaScript, KeyStatus, parseKeyResponse } from './security-key-views.js';
import { LoginPage } from './account-pages.js';

/**
 * "Sign in with a passkey" on /login (SPEC §10). public/security-keys.js runs the ceremony — from the
 * button, or from the Email field's autofill (conditional mediation, started on page load) — puts
 * the answer into the hidden field and posts the form; the server answers with a page as usual.
 */
export interface PasskeySignInState {
  /** The relying party id, for the WebAuthn Signal API call about an unknown credential. */
  rpId: string;
  failure?: FormFailure | undefined;
  /** The credential the server does not know: the page asks the browser to forget it. */
  unknownCredential?: string | undefined;
}

export function PasskeySignInForm({ csrf, next, state }: { csrf: string; next?: string | undefined; state: PasskeySignInState }) {
  return (
    <form
      id="passkey-login"
      method="post"
      action={withNext('/login/passkey', next)}
      class="form passkey-login"
      novalidate
      data-options-url="/api/v1/login/passkey/options"
      data-rp-id={state.rpId}
      data-unknown-credential={state.unknownCredential}
      // After a refused passkey the page does not offer the same passkey again on its own: the button does.
      data-autofill={state.failure ? 'off' : 'on'}
    >
      <CsrfField token={csrf} />
      <input type="hidden" name="response" value="" />
      <p class="divider">
        <span>or</span>
      </p>
      {state.failure?.form ? (
        <Notice kind="error">
          {state.failure.form}
        </Notice>
      ) : null}
      <KeyNeedsJavaScript>Signing in with a passkey needs JavaScript. Without it, log in with your email and password.</KeyNeedsJavaScript>
      <KeyButton variant="secondary" block>
        Sign in with a passkey
      </KeyButton>
      <KeyStatus />
    </form>
  );
}

const credentialIdOf = (response: unknown): string | undefined => {
  const id = (response as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,1400}$/.test(id) ? id : undefined;
};

export function passkeyLoginPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const signupOpen = () => ctx.config.signup === 'open';

  app.post('/login/passkey', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const next = safeNext((request.query as Record<string, unknown>).next);
    const form = readForm(request, ['response'], { maxLength: { response: KEY_RESPONSE_MAX } });
    const { csrf } = await pageBase(ctx, request, reply);
    const rpId = ctx.config.publicUrl.hostname;
    const show = (failure: FormFailure, unknownCredential?: string) =>
      sendPage(reply, <LoginPage csrf={csrf} next={next} signupOpen={signupOpen()} passkey={{ rpId, failure, unknownCredential }} />, failure.status, failure.headers);
    const response = parseKeyResponse(form.response);
    if (response === undefined) {
      return show({
        status: 400,
        headers: {},
        fields: {},
        form: form.response.trim() ? GARBLED_RESPONSE : 'Signing in with a passkey needs JavaScript. Without it, log in with your email and password.',
      });
    }
    try {
      await completePasskeySignIn(ctx, request, reply, response);
    } catch (err) {
      const unknown = err instanceof AppError && err.code === 'unknown_passkey' ? credentialIdOf(response) : undefined;
      return show(formFailure(err), unknown);
    }
    return reply.redirect(next ?? '/settings', 303);
  });
}
