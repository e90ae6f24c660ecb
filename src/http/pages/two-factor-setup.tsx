import type { FastifyReply, FastifyRequest } from 'fastify';
import { RECOVERY_CODE_COUNT } from '../../core/recovery-codes.js';
import { otpauthUri } from '../../core/totp.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { recoveryCodesFile } from '../../service/recovery-codes.js';
import { totpSecretContext } from '../../service/second-factor.js';
import type { ActiveSession } from '../../service/sessions.js';
import { confirmTotpSetup, startTotpSetup } from '../../service/two-factor.js';
import { findTotp } from '../../store/totp.js';
import { twoFactorStatus } from '../../store/two-factor-status.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Form, FormAlert, fieldFailure, formFailure, readForm, SubmitOrCancel, type FormFailure } from './forms.js';
import { Card, Layout, Notice, PageHeading } from './layout.js';
import { safeNext, withNext } from './next-path.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { CodeField, emptyCodeMessage, fresh, isReauthRequired, toReauthenticate } from './second-factor-fields.js';

export interface SetupPageProps {
  csrf: string;
  email: string;
  issuer: string;
  /** The pending secret, base32. */
  secret: string;
  qrCodeSvg: string;
  failure?: FormFailure | undefined;
  /** Where to go once 2FA is on (a protected application's step-up), carried through the steps. */
  next?: string | undefined;
}

/** "ABCD EFGH …": easier to copy by hand into an app than 32 characters in a row. */
export function groupInFours(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(' ');
}

function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

/** A download link target that needs no second request, so it also works when codes are stored hashed. */
export function textFileDataUrl(text: string): string {
  return `data:text/plain;charset=utf-8;base64,${Buffer.from(text, 'utf8').toString('base64')}`;
}

export const RECOVERY_FILE_NAME = 'twofold-recovery-codes.txt';

/** Scan (or type) the secret, then prove it with a code. */
export function SetupPage({ csrf, email, issuer, secret, qrCodeSvg, failure, next }: SetupPageProps) {
  const errors = failure?.fields ?? {};
  return (
    <Layout title="Set up two-factor authentication" user={{ email }} csrf={csrf} width="wide" hasErrors={!!failure}>
      <PageHeading
        title="Set up two-factor authentication"
        lead="You need an authenticator app on your phone, such as Google Authenticator, Authy, Microsoft Authenticator or 1Password."
      />
      <Card>
        <ol class="steps">
          <li class="step">
            <h2 class="step-title">Scan this QR code with your authenticator app</h2>
            <div class="setup-grid">
              <div class="qr-frame">
                <img class="qr" src={svgDataUrl(qrCodeSvg)} alt={`QR code for ${issuer}: ${email}`} width={200} height={200} />
              </div>
              <div class="manual-key">
                <p class="hint">Cannot scan it? Add the account by hand with this key:</p>
                <dl class="facts">
                  <div>
                    <dt>Key</dt>
                    <dd>
                      <code class="secret" id="totp-secret">
                        {groupInFours(secret)}
                      </code>
                    </dd>
                  </div>
                  <div>
                    <dt>Account</dt>
                    <dd>{email}</dd>
                  </div>
                  <div>
                    <dt>Issuer</dt>
                    <dd>{issuer}</dd>
                  </div>
                  <div>
                    <dt>Type</dt>
                    <dd>Time-based, 6 digits, every 30 seconds</dd>
                  </div>
                </dl>
              </div>
            </div>
          </li>
          <li class="step">
            <h2 class="step-title">Enter the code the app shows</h2>
            <FormAlert message={failure?.form} />
            <Form action={withNext('/settings/two-factor/confirm', next)} csrf={csrf}>
              <CodeField mode="totp" error={errors.code} autofocus={!!errors.code} hint="Two-factor authentication turns on once this code is right." />
              <SubmitOrCancel>
                <Button>Verify</Button>
              </SubmitOrCancel>
            </Form>
          </li>
        </ol>
      </Card>
    </Layout>
  );
}

export interface CodesShownProps {
  csrf: string;
  email: string;
  codes: string[];
  /** The .txt file's contents (recoveryCodesFile). */
  fileText: string;
  /** `setup`: right after turning 2FA on; `regenerated`: a new set replaced the old. */
  kind: 'setup' | 'regenerated';
  /** TWOFOLD_RECOVERY_CODES=hashed: these codes can never be shown again. */
  hashed: boolean;
  /**
   * With `setup`: what was just set up. `app` (default) or `key` (a first security key turned 2FA
   * on); `app-added`: an authenticator app joined security keys, and these codes replace the old.
   */
  factor?: 'app' | 'key' | 'passkey' | 'app-added';
  /** Done leads here instead of to settings. */
  next?: string | undefined;
}

const SETUP_LEADS: Record<NonNullable<CodesShownProps['factor']>, string> = {
  app: 'Two-factor authentication is now on. If you lose your phone, each of these codes lets you log in once instead of a code from the app.',
  key: 'Two-factor authentication is now on. If you lose your security key, each of these codes lets you log in once instead of the key.',
  passkey: 'Two-factor authentication is now on. If you lose the device that keeps your passkey, each of these codes lets you log in once instead of it.',
  'app-added':
    'Your authenticator app is set up. These new recovery codes replace your earlier ones, which no longer work. Each lets you log in once if your phone and security keys are not at hand.',
};

const DONE_NOTICES: Record<NonNullable<CodesShownProps['factor']>, string> = { app: 'two_factor_on', key: 'key_added_two_factor_on', passkey: 'passkey_added_two_factor_on', 'app-added': 'app_added' };

/** The new recovery codes, shown once (a POST response, so a reload does not show them again). */
export function CodesShownPage({ csrf, email, codes, fileText, kind, hashed, factor = 'app', next }: CodesShownProps) {
  const title = kind === 'setup' ? 'Save your recovery codes' : 'Your new recovery codes';
  return (
    <Layout title={title} user={{ email }} csrf={csrf} width="wide" scripts={['copy-codes.js']}>
      <PageHeading
        title={title}
        lead={
          kind === 'setup'
            ? SETUP_LEADS[factor]
            : 'Your old recovery codes no longer work. Each of these codes lets you log in once instead of your second factor.'
        }
      />
      {kind === 'setup' && factor !== 'app-added' ? <Notice kind="success">Two-factor authentication is enabled for {email}.</Notice> : null}
      <Card heading="Recovery codes" id="recovery-codes">
        <p>
          Save them somewhere safe and private, such as a password manager, or print them.{' '}
          {hashed ? (
            <strong>They are shown only this once.</strong>
          ) : (
            <>This page shows them only this once; you can view them again later in Account settings.</>
          )}
        </p>
        <ol class="codes" id="recovery-code-list" aria-label={`${RECOVERY_CODE_COUNT} recovery codes`}>
          {codes.map((code) => (
            <li>
              <code>{code}</code>
            </li>
          ))}
        </ol>
        <div class="actions actions-compact">
          <a class="button button-secondary" href={textFileDataUrl(fileText)} download={RECOVERY_FILE_NAME}>
            Download
          </a>
          <button type="button" class="button button-secondary" data-copy-text={codes.join('\n')} data-copy-status="copy-status" hidden>
            Copy
          </button>
          <span id="copy-status" class="copy-status" role="status"></span>
        </div>
      </Card>
      {next ? (
        // On the way back to where the person was going (a protected application's step-up).
        <form method="get" action={next.split('?')[0]} class="form-actions">
          {[...new URLSearchParams(next.split('?')[1] ?? '')].map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <button type="submit" class="button button-primary">
            Done
          </button>
        </form>
      ) : (
      <form method="get" action={kind === 'setup' && (factor === 'key' || factor === 'passkey') ? '/settings#security-keys' : '/settings'} class="form-actions">
        <input type="hidden" name="notice" value={kind === 'setup' ? DONE_NOTICES[factor] : 'codes_regenerated'} />
        <button type="submit" class="button button-primary">
          Done
        </button>
      </form>
      )}
    </Layout>
  );
}

/** The codes just issued, in the .txt format of the download (same file as the API's). */
export function freshCodesFile(ctx: Context, email: string, codes: string[]): string {
  return recoveryCodesFile(ctx, email, {
    codes: codes.map((code) => ({ code, used: false })),
    remaining: codes.length,
    createdAt: ctx.clock.now(),
  });
}

/** The pending setup, re-shown from the database (the same secret on every reload), or a redirect. */
async function showSetup(ctx: Context, reply: FastifyReply, csrf: string, auth: ActiveSession, failure?: FormFailure, next?: string): Promise<FastifyReply> {
  const cred = await findTotp(ctx.db, auth.session.userId);
  if (!cred || cred.confirmedAt !== null) return reply.redirect('/settings', 303);
  const secret = ctx.box.decrypt(cred.secretEnc, totpSecretContext(auth.session.userId));
  const uri = otpauthUri({ issuer: ctx.config.issuer, account: auth.email, secret });
  // qrcode loads on the first setup, not at start.
  const QRCode = (await import('qrcode')).default;
  const qrCodeSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return sendPage(
    reply,
    <SetupPage csrf={csrf} email={auth.email} issuer={ctx.config.issuer} secret={secret} qrCodeSvg={qrCodeSvg} failure={failure} next={next} />,
    failure?.status ?? 200,
    failure?.headers ?? {},
  );
}

const SETUP_PATH = '/settings/two-factor/setup';

export function twoFactorSetupPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const nextOf = (request: FastifyRequest) => safeNext((request.query as Record<string, unknown>).next);

  /** Starts a setup unless one is waiting; false when an app is already on. */
  const start = async (auth: ActiveSession): Promise<boolean> => {
    try {
      await startTotpSetup(ctx, auth.session, auth.email);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.code === 'already_enabled') return false;
      throw err;
    }
  };

  // Binding a new authenticator is a sensitive change (SPEC §3): a stale session is sent to
  // "Confirm it's you" and comes back to the setup page (with where it was going after it).
  app.post(SETUP_PATH, async (request, reply) => {
    const { auth } = await signedInPage(ctx, request, reply);
    const here = withNext(SETUP_PATH, nextOf(request));
    if (!fresh(ctx, auth)) return toReauthenticate(reply, here);
    if (!(await start(auth))) return reply.redirect('/settings', 303);
    return reply.redirect(here, 303);
  });

  app.get(SETUP_PATH, async (request: FastifyRequest, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const next = nextOf(request);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, withNext(SETUP_PATH, next));
    // Back from "Confirm it's you" (or a bookmark) with no setup waiting: start one, so the page
    // shows what the person came for. It changes nothing about login until a code confirms it.
    const cred = await findTotp(ctx.db, auth.session.userId);
    if (!cred && !(await start(auth))) return reply.redirect('/settings', 303);
    return showSetup(ctx, reply, csrf, auth, undefined, next);
  });

  app.post('/settings/two-factor/confirm', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['code']);
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const next = nextOf(request);
    // The pending secret stays: after "Confirm it's you" the same QR code is shown again.
    if (!fresh(ctx, auth)) return toReauthenticate(reply, withNext(SETUP_PATH, next));
    if (!form.code.trim()) return showSetup(ctx, reply, csrf, auth, fieldFailure('code', emptyCodeMessage('totp')), next);
    let codes: string[];
    // Security keys already on: the app joins them, and the codes issued now replace the old set.
    const keysBefore = (await twoFactorStatus(ctx.db, auth.session.userId)).securityKeys > 0;
    try {
      codes = await confirmTotpSetup(ctx, auth.session, form.code, requestMeta(request));
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, withNext(SETUP_PATH, next));
      if (err instanceof AppError && (err.code === 'already_enabled' || err.code === 'no_pending_setup')) return reply.redirect('/settings', 303);
      return showSetup(ctx, reply, csrf, auth, formFailure(err), next);
    }
    return sendPage(
      reply,
      <CodesShownPage
        csrf={csrf}
        email={auth.email}
        codes={codes}
        fileText={freshCodesFile(ctx, auth.email, codes)}
        kind="setup"
        factor={keysBefore ? 'app-added' : 'app'}
        hashed={ctx.config.recoveryCodes === 'hashed'}
        next={next}
      />,
    );
  });
}
