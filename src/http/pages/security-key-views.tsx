import type { SecurityKeyView } from '../../service/security-keys.js';
import { Field, Form, FormAlert, type FormFailure } from './forms.js';
import { Card, CsrfField, Notice } from './layout.js';
import { formatTime } from './security-log-view.js';

/**
 * The pieces of the pages that use security keys. The browser's WebAuthn prompt needs JavaScript:
 * public/security-keys.js (with @simplewebauthn/browser) runs the ceremony, puts the key's answer
 * into a hidden `response` field and posts the form, so the server still renders every result.
 */

/** Layout `scripts` of a page with a security-key form: the library first, then ours (both deferred, in order). */
export const KEY_SCRIPTS = ['vendor/simplewebauthn-browser.js', 'security-keys.js'];

/** Security keys answer in JSON of a few hundred bytes; far more is not a key's answer. */
export const KEY_RESPONSE_MAX = 32 * 1024;

export const KEY_NAME_MAX = 64;

/** The posted `response` field: the JSON of startRegistration()/startAuthentication(), or undefined. */
export function parseKeyResponse(raw: string): unknown {
  if (!raw.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export const NEEDS_JAVASCRIPT = 'Security keys need JavaScript: the browser talks to the key through it. Turn JavaScript on for this site and try again.';
export const GARBLED_RESPONSE = 'The security key’s answer did not arrive intact. Try again.';

/** Where the script says what is happening ("Touch your security key…"), announced politely. */
export function KeyStatus() {
  return <p class="key-status" data-key-status role="status"></p>;
}

/**
 * Without JavaScript a security key cannot be used; say so where the key's button would be. Shown
 * by default and hidden by the script once it runs, so it also shows when the script could not load
 * (a <noscript> would not).
 */
export function KeyNeedsJavaScript({ children }: { children: string }) {
  return (
    <p class="notice notice-warning" data-key-needs-js>
      {children}
    </p>
  );
}

/**
 * The submit button of a form that needs the key's prompt: disabled until the script has checked
 * that this browser can use keys, so that without JavaScript it cannot post a form with no answer.
 */
export function KeyButton({ children, variant = 'primary', block }: { children: string; variant?: 'primary' | 'secondary'; block?: boolean }) {
  return (
    <button type="submit" class={`button button-${variant}${block ? ' button-block' : ''}`} disabled data-key-enable>
      {children}
    </button>
  );
}

/** Which form of the section a refusal belongs to. */
export type KeyFormTarget = { kind: 'security_key' } | { kind: 'passkey' } | { kind: 'rename'; id: string };

/** What a form of the section shows again after a refusal. */
export interface AddKeyFormState {
  /** Default: the add-security-key form. */
  target?: KeyFormTarget | undefined;
  name: string;
  /** The key's answer, kept when only the name was refused, so it can be sent again with another name. */
  response?: string | undefined;
  failure?: FormFailure | undefined;
}

export interface SecurityKeysSectionProps {
  csrf: string;
  keys: SecurityKeyView[];
  /** Whether an authenticator app is set up too (then removing the last key leaves 2FA on). */
  hasApp: boolean;
  /** A flash about a key just added, renamed or removed. */
  notice?: string | undefined;
  form?: AddKeyFormState | undefined;
}

const KIND_WORDS = { passkey: 'Passkey', security_key: 'Security key' } as const;

/** A key's Rename: a disclosure with a one-field form (no script needed), open again after a refusal. */
function RenameForm({ csrf, k, labelId, state }: { csrf: string; k: SecurityKeyView; labelId: string; state?: AddKeyFormState | undefined }) {
  const fieldId = `rename-${k.id}`;
  const error = state?.failure?.fields.name ?? state?.failure?.form;
  const errorId = error ? `${fieldId}-error` : undefined;
  return (
    <details class="key-rename" open={!!state}>
      <summary aria-describedby={labelId}>Rename</summary>
      <Form action={`/settings/security-keys/${encodeURIComponent(k.id)}/rename`} csrf={csrf} class="form key-rename-form">
        <div class={`field${error ? ' field-invalid' : ''}`}>
          <label for={fieldId}>New name</label>
          {error ? (
            <p class="field-error" id={errorId}>
              <span class="visually-hidden">Error: </span>
              {error}
            </p>
          ) : null}
          <input
            id={fieldId}
            name="name"
            type="text"
            value={state?.name ?? k.name}
            maxLength={KEY_NAME_MAX}
            autocomplete="off"
            required
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={[errorId, labelId].filter(Boolean).join(' ')}
            autofocus={!!error}
          />
        </div>
        <div>
          <button type="submit" class="button button-secondary button-small">
            Save name
          </button>
        </div>
      </Form>
    </details>
  );
}

/**
 * "Passkeys and security keys" in Account settings: one list with each one's kind, name, added and
 * last used, Rename and Remove; then "Add passkey" and "Add security key".
 */
export function SecurityKeysSection({ csrf, keys, hasApp, notice, form }: SecurityKeysSectionProps) {
  const target = form?.target ?? { kind: 'security_key' };
  const keyForm = target.kind === 'security_key' ? form : undefined;
  const passkeyForm = target.kind === 'passkey' ? form : undefined;
  const renaming = target.kind === 'rename' ? target.id : undefined;
  const errors = keyForm?.failure?.fields ?? {};
  const enabled = hasApp || keys.length > 0;
  const lastFactor = keys.length === 1 && !hasApp;
  const held = !!keyForm?.response;
  return (
    <Card heading="Passkeys and security keys" id="security-keys">
      {notice ? <Notice kind="success">{notice}</Notice> : null}
      <p class="hint">
        A passkey signs you in without a password: your phone, computer or password manager keeps it, and unlocks it with your fingerprint, face or PIN. A security key, such
        as a YubiKey, is a small device you plug in or hold to your phone and touch as the second step after your password. Neither can be phished or guessed.{' '}
        {enabled ? 'At login you can use any of them as the second step.' : 'Adding your first passkey or key turns on two-factor authentication.'}
      </p>
      {keys.length === 0 ? (
        <p class="empty">No passkeys or security keys yet.</p>
      ) : (
        <ul class="item-list" aria-label="Your passkeys and security keys">
          {keys.map((k) => {
            const labelId = `key-${k.id}`;
            return (
              <li class="item">
                <div class="item-main">
                  <p class="item-title" id={labelId}>
                    {k.name}
                  </p>
                  <p class="item-meta">
                    <span class="item-kind">{KIND_WORDS[k.kind]}</span>
                    <span>
                      Added <time datetime={k.createdAt}>{formatTime(Date.parse(k.createdAt))}</time>
                    </span>
                    <span>
                      Last used {k.lastUsedAt ? <time datetime={k.lastUsedAt}>{formatTime(Date.parse(k.lastUsedAt))}</time> : 'never'}
                    </span>
                  </p>
                  {lastFactor ? <p class="hint">This is your only second factor: removing it turns two-factor authentication off.</p> : null}
                  <RenameForm csrf={csrf} k={k} labelId={labelId} state={renaming === k.id ? form : undefined} />
                </div>
                <Form action={`/settings/security-keys/${encodeURIComponent(k.id)}/remove`} csrf={csrf} class="inline-form">
                  <button type="submit" class="button button-secondary button-small" aria-describedby={labelId}>
                    Remove
                  </button>
                </Form>
              </li>
            );
          })}
        </ul>
      )}
      <form
        id="add-passkey"
        method="post"
        action="/settings/passkeys"
        class="form key-add"
        novalidate
        data-options-url="/api/v1/me/passkeys/options"
        data-reauth-url="/reauthenticate?next=%2Fsettings"
      >
        <CsrfField token={csrf} />
        <input type="hidden" name="response" value="" />
        <FormAlert message={passkeyForm?.failure?.form ?? passkeyForm?.failure?.fields.name} />
        <p class="hint">Your browser asks where to keep the passkey and to confirm with your fingerprint, face or PIN. It is named after the device; you can rename it.</p>
        <KeyNeedsJavaScript>Adding a passkey needs JavaScript: the browser creates it through it. Turn JavaScript on for this site to add a passkey.</KeyNeedsJavaScript>
        <div>
          <KeyButton>Add passkey</KeyButton>
        </div>
        <KeyStatus />
      </form>
      <form
        id="add-security-key"
        method="post"
        action="/settings/security-keys"
        class="form key-add"
        novalidate
        data-options-url="/api/v1/me/security-keys/options"
        data-reauth-url="/reauthenticate?next=%2Fsettings"
      >
        <CsrfField token={csrf} />
        <input type="hidden" name="response" value={keyForm?.response ?? ''} />
        <FormAlert message={keyForm?.failure?.form} />
        <Field
          name="name"
          label="Key name"
          value={keyForm?.name}
          hint={
            held
              ? 'Your key already answered: choose another name and press Add security key again. No need to touch the key.'
              : `${KEY_NAME_MAX} characters at most, so you can tell your keys apart, like “Blue YubiKey”.`
          }
          autocomplete="off"
          maxLength={KEY_NAME_MAX}
          required
          autofocus={!!errors.name}
          error={errors.name}
        />
        <KeyNeedsJavaScript>Adding a security key needs JavaScript: the browser talks to the key through it. Turn JavaScript on for this site to add a key.</KeyNeedsJavaScript>
        <div>
          <KeyButton variant="secondary">Add security key</KeyButton>
        </div>
        <KeyStatus />
      </form>
    </Card>
  );
}
