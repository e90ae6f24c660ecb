import type { KoaContextWithOIDC, ErrorOut } from 'oidc-provider';
import { render } from 'preact-render-to-string';
import { SCOPE_DESCRIPTIONS } from '../../core/oidc-client.js';
import { Button, Form } from '../pages/forms.js';
import { assetUrl } from '../pages/assets.js';
import { Card, Layout, Notice, PageHeading } from '../pages/layout.js';

function html(koa: KoaContextWithOIDC, page: preact.VNode, status?: number): void {
  koa.type = 'text/html; charset=utf-8';
  koa.set('cache-control', 'no-store');
  if (status !== undefined) koa.status = status;
  koa.body = '<!doctype html>' + render(page);
}

/** A provider error shown to the person (a bad redirect_uri, an unknown client …): never a stack. */
export function renderOidcErrorPage(koa: KoaContextWithOIDC, out: ErrorOut, _error: unknown): void {
  const description = out.error_description ?? 'The application sent a request Twofold cannot accept.';
  html(
    koa,
    <Layout title="Sign-in request refused" hasErrors>
      <div class="card error-card">
        <p class="error-status">Error {koa.status}</p>
        <PageHeading title="Sign-in request refused" lead={`${description} (${out.error})`} />
        <p>Go back to the application and try again. If this keeps happening, tell the application's administrator.</p>
      </div>
    </Layout>,
  );
}

/** RP-initiated logout: the person confirms (no script: the form is the provider's, the buttons are ours). */
export function renderEndSessionPage(koa: KoaContextWithOIDC, form: string): void {
  const client = koa.oidc.client?.clientName;
  html(
    koa,
    <Layout title="Log out">
      <Card>
        <PageHeading title="Log out" lead={client ? `${client} asks to log you out of Twofold.` : 'Do you want to log out of Twofold?'} />
        <div dangerouslySetInnerHTML={{ __html: form }} />
        <p class="actions">
          <button class="button button-primary" type="submit" form="op.logoutForm" name="logout" value="yes">
            Log out
          </button>
          <button class="button button-secondary" type="submit" form="op.logoutForm">
            Stay logged in
          </button>
        </p>
      </Card>
    </Layout>,
  );
}

export function renderSignedOutPage(koa: KoaContextWithOIDC): void {
  html(
    koa,
    <Layout title="Logged out">
      <Card>
        <PageHeading title="Logged out" />
        <Notice kind="success">You have logged out.</Notice>
        <p class="actions">
          <a class="button button-primary" href="/login">
            Log in again
          </a>
        </p>
      </Card>
    </Layout>,
  );
}

export interface ConsentPageProps {
  csrf: string;
  action: string;
  clientName: string;
  email: string;
  scopes: string[];
}

/** The consent page (SPEC §11): what the application asks for, and **Allow** / **Deny**. */
export function ConsentPage({ csrf, action, clientName, email, scopes }: ConsentPageProps) {
  return (
    <Layout title={`Allow ${clientName}?`}>
      <Card>
        <PageHeading title={`Allow ${clientName} to use your account?`} lead={`Signed in as ${email}.`} />
        <p>{clientName} asks for:</p>
        <ul class="scope-list">
          {scopes.map((s) => (
            <li key={s}>{SCOPE_DESCRIPTIONS[s] ?? s}</li>
          ))}
        </ul>
        <Form action={action} csrf={csrf}>
          <p class="actions">
            <Button name="decision" value="allow">
              Allow
            </Button>
            <Button name="decision" value="deny" variant="secondary">
              Deny
            </Button>
          </p>
        </Form>
      </Card>
    </Layout>
  );
}

/** A client that needs 2FA and an account without it: set it up (straight into setup), then continue. */
export function TwoFactorNeededPage({ csrf, clientName, continueUrl }: { csrf: string; clientName: string; continueUrl: string }) {
  return (
    <Layout title="Two-factor authentication required">
      <Card>
        <PageHeading title="Two-factor authentication required" lead={`${clientName} lets in only people who sign in with two-factor authentication. Set it up, then come back here and continue.`} />
        <Form action="/settings/two-factor/setup" csrf={csrf}>
          <Button block>Setup two-factor authentication</Button>
        </Form>
        <p class="actions">
          <a class="button button-secondary" href={continueUrl}>
            Continue to {clientName}
          </a>
        </p>
      </Card>
    </Layout>
  );
}

/**
 * The hand-over back to the provider once Twofold's part is done. A page, not a redirect: the pages'
 * CSP allows forms to lead only to this site (form-action 'self'), and browsers apply that to every
 * redirect after a form post, so the step that ends at the application must be a navigation of its
 * own. A meta refresh is one, and needs no JavaScript.
 */
export function ContinuePage({ to }: { to: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta http-equiv="refresh" content={`0;url=${to}`} />
        <title>Continuing · Twofold</title>
        <link rel="stylesheet" href={assetUrl('styles.css')} />
      </head>
      <body>
        <main id="main" class="wrap wrap-narrow">
          <div class="card">
            <h1>Continuing…</h1>
            <p class="actions">
              <a class="button button-primary" href={to}>
                Continue
              </a>
            </p>
          </div>
        </main>
      </body>
    </html>
  );
}
