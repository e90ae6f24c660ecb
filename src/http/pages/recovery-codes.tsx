import { RECOVERY_CODE_COUNT, LOW_RECOVERY_CODES } from '../../core/recovery-codes.js';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { recoveryCodesFile, regenerateRecoveryCodes, viewRecoveryCodes, type ViewableCodes } from '../../service/recovery-codes.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Button, Form } from './forms.js';
import { Card, Layout, Notice, PageHeading } from './layout.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { fresh, isReauthRequired, returnTo, ReturnTo, toReauthenticate } from './second-factor-fields.js';
import { CodesShownPage, freshCodesFile, RECOVERY_FILE_NAME } from './two-factor-setup.js';

const VIEW_PATH = '/settings/two-factor/recovery-codes';
const TXT_PATH = '/settings/two-factor/recovery-codes.txt';

function RegenerateForm({ csrf }: { csrf: string }) {
  return (
    <Form action={VIEW_PATH} csrf={csrf} class="inline-form">
      <ReturnTo path={VIEW_PATH} />
      <Button variant="secondary">Regenerate recovery codes</Button>
    </Form>
  );
}

/** All 10 codes, the used ones marked "used" in text and by look. */
export function RecoveryCodesPage({ csrf, email, view }: { csrf: string; email: string; view: ViewableCodes }) {
  const low = view.remaining <= LOW_RECOVERY_CODES;
  return (
    <Layout title="Recovery codes" user={{ email }} csrf={csrf} width="wide">
      <PageHeading title="Recovery codes" lead="Each code lets you log in once instead of a code from your authenticator app." />
      <Card heading={`${view.remaining} of ${RECOVERY_CODE_COUNT} codes left`} id="recovery-codes">
        {low ? (
          <Notice kind="warning">
            {view.remaining === 0 ? 'You have no recovery codes left.' : `Only ${view.remaining} left.`} Regenerate recovery codes to get a new set of
            10.
          </Notice>
        ) : null}
        <ol class="codes" aria-label="Your recovery codes">
          {view.codes.map((c) => (
            <li class={c.used ? 'code-used' : undefined}>
              <code>{c.code}</code>
              {c.used ? <span class="code-status"> used</span> : null}
            </li>
          ))}
        </ol>
        <div class="actions actions-compact">
          <a class="button button-secondary" href={TXT_PATH} download={RECOVERY_FILE_NAME}>
            Download
          </a>
          <RegenerateForm csrf={csrf} />
        </div>
        <p class="hint">Regenerating makes a new set of 10 and stops every code above from working.</p>
      </Card>
      <p class="below-card below-card-start">
        <a href="/settings">Back to Account settings</a>
      </p>
    </Layout>
  );
}

/** TWOFOLD_RECOVERY_CODES=hashed: only keyed hashes are kept, so there is nothing to show. */
export function HashedCodesPage({ csrf, email, remaining }: { csrf: string; email: string; remaining: number }) {
  return (
    <Layout title="Recovery codes" user={{ email }} csrf={csrf} width="wide">
      <PageHeading title="Recovery codes" lead="Each code lets you log in once instead of a code from your authenticator app." />
      <Card heading={`${remaining} of ${RECOVERY_CODE_COUNT} codes left`} id="recovery-codes">
        <p>
          This service keeps recovery codes only in a form that cannot be turned back into the codes, so they were shown once, when they were made,
          and cannot be shown again.
        </p>
        <p>If you no longer have them, or have few left, make a new set. Every old code stops working.</p>
        <div class="actions actions-compact">
          <RegenerateForm csrf={csrf} />
        </div>
      </Card>
      <p class="below-card below-card-start">
        <a href="/settings">Back to Account settings</a>
      </p>
    </Layout>
  );
}

export function recoveryCodePages(app: App, ctx: Context): void {
  app.get(VIEW_PATH, async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const status = await twoFactorStatus(ctx.db, auth.session.userId);
    if (!isTwoFactorEnabled(status)) return reply.redirect('/settings', 303);
    const hashedPage = () => sendPage(reply, <HashedCodesPage csrf={csrf} email={auth.email} remaining={status.recoveryCodesRemaining} />);
    // Nothing to show in hashed mode, so no need to ask for the password first.
    if (ctx.config.recoveryCodes === 'hashed') return hashedPage();
    if (!fresh(ctx, auth)) return toReauthenticate(reply, VIEW_PATH);
    try {
      const view = await viewRecoveryCodes(ctx, auth.session.userId, requestMeta(request));
      return sendPage(reply, <RecoveryCodesPage csrf={csrf} email={auth.email} view={view} />);
    } catch (err) {
      if (err instanceof AppError && err.code === 'codes_not_viewable') return hashedPage();
      if (err instanceof AppError && err.code === 'two_factor_not_enabled') return reply.redirect('/settings', 303);
      if (isReauthRequired(err)) return toReauthenticate(reply, VIEW_PATH);
      throw err;
    }
  });

  // The same file as GET /api/v1/me/two-factor/recovery-codes.txt, under the page's session checks.
  app.get(TXT_PATH, async (request, reply) => {
    const { auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, VIEW_PATH);
    try {
      const view = await viewRecoveryCodes(ctx, auth.session.userId, requestMeta(request));
      return reply
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="${RECOVERY_FILE_NAME}"`)
        .send(recoveryCodesFile(ctx, auth.email, view));
    } catch (err) {
      if (err instanceof AppError && (err.code === 'codes_not_viewable' || err.code === 'two_factor_not_enabled')) return reply.redirect(VIEW_PATH, 303);
      throw err;
    }
  });

  app.post(VIEW_PATH, async (request, reply) => {
    const { csrf, auth } = await signedInPage(ctx, request, reply);
    const back = returnTo(request, '/settings');
    if (!fresh(ctx, auth)) return toReauthenticate(reply, back);
    let codes: string[];
    try {
      codes = await regenerateRecoveryCodes(ctx, auth.session.userId, requestMeta(request));
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, back);
      if (err instanceof AppError && err.code === 'two_factor_not_enabled') return reply.redirect('/settings', 303);
      throw err;
    }
    return sendPage(
      reply,
      <CodesShownPage
        csrf={csrf}
        email={auth.email}
        codes={codes}
        fileText={freshCodesFile(ctx, auth.email, codes)}
        kind="regenerated"
        hashed={ctx.config.recoveryCodes === 'hashed'}
      />,
    );
  });
}
