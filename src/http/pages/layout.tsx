import type { ComponentChildren } from 'preact';
import { assetUrl } from './assets.js';
import { GraceBanner } from './two-factor-required.js';

export const PRODUCT_NAME = 'Twofold';

export interface LayoutProps {
  /** The page's own title; the document title becomes "<title> · Twofold". */
  title: string;
  /** The CSRF form token; needed when the header shows the Log out button. */
  csrf?: string;
  /** A fully signed-in account: the header shows its email, "Account settings" and "Log out". */
  user?: { email: string } | null;
  /** A login waiting for its second factor: the header shows this email and nothing else. */
  pendingEmail?: string;
  /** `narrow` (default) for a single form, `wide` for settings-like pages. */
  width?: 'narrow' | 'wide';
  /** Files in public/ to load as deferred scripts (only where a page really needs JavaScript). */
  scripts?: string[];
  /** Prefixes the document title with "Error: " so screen readers hear it first. */
  hasErrors?: boolean;
  children: ComponentChildren;
}

/** The one layout of every HTML page. */
export function Layout(props: LayoutProps) {
  const docTitle = `${props.hasErrors ? 'Error: ' : ''}${props.title} · ${PRODUCT_NAME}`;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{docTitle}</title>
        <link rel="stylesheet" href={assetUrl('styles.css')} />
        <link rel="icon" href={assetUrl('favicon.svg')} type="image/svg+xml" />
        {(props.scripts ?? []).map((file) => (
          <script src={assetUrl(file)} defer />
        ))}
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <Header {...props} />
        <main id="main" class={`wrap wrap-${props.width ?? 'narrow'}`} tabIndex={-1}>
          {props.user ? <GraceBanner /> : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

function Header(props: LayoutProps) {
  return (
    <header class="site-header">
      <div class="wrap wrap-wide header-inner">
        <a class="brand" href="/">
          <span class="brand-mark" aria-hidden="true">
            2
          </span>
          {PRODUCT_NAME}
        </a>
        {props.user ? (
          <nav class="account-nav" aria-label="Account">
            <span class="account-email">{props.user.email}</span>
            <a href="/settings">Account settings</a>
            <form method="post" action="/logout" class="inline-form">
              <CsrfField token={props.csrf ?? ''} />
              <button type="submit" class="button button-secondary button-small">
                Log out
              </button>
            </form>
          </nav>
        ) : props.pendingEmail ? (
          <div class="account-nav">
            <span class="account-email">{props.pendingEmail}</span>
          </div>
        ) : null}
      </div>
    </header>
  );
}

/** The hidden field every page form carries. */
export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** The page's one h1, with an optional lead paragraph. */
export function PageHeading({ title, lead }: { title: string; lead?: ComponentChildren }) {
  return (
    <div class="page-heading">
      <h1>{title}</h1>
      {lead ? <p class="lead">{lead}</p> : null}
    </div>
  );
}

/**
 * A titled box. With `heading`, it is a landmark region named by its h2 (so tests and screen
 * readers can find "the Two-factor authentication section").
 */
export function Card({ heading, id, aside, children }: { heading?: string; id?: string; aside?: ComponentChildren; children: ComponentChildren }) {
  if (!heading) return <div class="card">{children}</div>;
  const headingId = `${id ?? slug(heading)}-heading`;
  return (
    <section class="card" aria-labelledby={headingId} id={id}>
      <div class="card-head">
        <h2 id={headingId}>{heading}</h2>
        {aside}
      </div>
      {children}
    </section>
  );
}

/** A short status word in a pill ("enabled", "disabled"); `tone` picks the colour. */
export function Badge({ tone, children }: { tone: 'on' | 'off' | 'neutral'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

/** A message about the page as a whole (not a field): `error` is announced as an alert. */
export function Notice({ kind = 'info', children }: { kind?: 'info' | 'success' | 'warning' | 'error'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
