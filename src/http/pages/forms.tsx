import type { FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { AppError } from '../../service/errors.js';
import { CsrfField, Notice } from './layout.js';

/** A form that posts to a page route, with its CSRF token. `novalidate`: the server's words win. */
export function Form({ action, csrf, class: cls, children }: { action: string; csrf: string; class?: string; children: ComponentChildren }) {
  return (
    <form method="post" action={action} class={cls ?? 'form'} novalidate>
      <CsrfField token={csrf} />
      {children}
    </form>
  );
}

export interface FieldProps {
  /** The form field name; also the element id (prefixed with `field-`). */
  name: string;
  /** The accessible name: exactly the words of SPEC §4. */
  label: string;
  type?: 'text' | 'email' | 'password';
  value?: string;
  autocomplete?: string;
  inputmode?: 'numeric' | 'text' | 'email';
  /** A sentence under the label, linked with aria-describedby. */
  hint?: ComponentChildren;
  /** The error for this field in plain words; sets aria-invalid and aria-describedby. */
  error?: string | undefined;
  required?: boolean;
  autofocus?: boolean;
  maxLength?: number;
  pattern?: string;
  spellcheck?: boolean;
  autocapitalize?: 'off' | 'none' | 'characters';
  /** Extra class on the input, e.g. `input-code` for one-time codes. */
  inputClass?: string;
}

/** A labelled text input with its hint and error next to it. */
export function Field(p: FieldProps) {
  const id = `field-${p.name}`;
  const hintId = p.hint ? `${id}-hint` : undefined;
  const errorId = p.error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${p.error ? ' field-invalid' : ''}`}>
      <label for={id}>{p.label}</label>
      {p.hint ? (
        <p class="hint" id={hintId}>
          {p.hint}
        </p>
      ) : null}
      {p.error ? (
        <p class="field-error" id={errorId}>
          <span class="visually-hidden">Error: </span>
          {p.error}
        </p>
      ) : null}
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={p.value ?? ''}
        class={p.inputClass ? `input ${p.inputClass}` : 'input'}
        autocomplete={p.autocomplete}
        inputmode={p.inputmode}
        required={p.required}
        autofocus={p.autofocus}
        maxLength={p.maxLength}
        pattern={p.pattern}
        spellcheck={p.spellcheck === undefined ? undefined : p.spellcheck}
        autocapitalize={p.autocapitalize}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={describedBy}
      />
    </div>
  );
}

/** A labelled checkbox (e.g. "Trust this device for 30 days"). */
export function Checkbox({ name, label, checked, hint, value = '1' }: { name: string; label: string; checked?: boolean; hint?: string; value?: string }) {
  const id = `field-${name}`;
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div class="field field-checkbox">
      <input id={id} type="checkbox" name={name} value={value} checked={checked} aria-describedby={hintId} />
      <label for={id}>{label}</label>
      {hint ? (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

export type ButtonVariant = 'primary' | 'secondary' | 'danger';

/** A submit button; `block` makes it full width (the main action of an auth form). */
export function Button({ children, variant = 'primary', block, name, value }: { children: ComponentChildren; variant?: ButtonVariant; block?: boolean; name?: string; value?: string }) {
  return (
    <button type="submit" class={`button button-${variant}${block ? ' button-block' : ''}`} name={name} value={value}>
      {children}
    </button>
  );
}

/** A form-level error (one that belongs to no field), shown above the fields. */
export function FormAlert({ message }: { message?: string | undefined }) {
  return message ? <Notice kind="error">{message}</Notice> : null;
}

/** A settings form's own button(s), then Cancel back to Account settings. */
export function SubmitOrCancel({ children }: { children: ComponentChildren }) {
  return (
    <div class="actions actions-compact">
      {children}
      <a class="button button-secondary" href="/settings">
        Cancel
      </a>
    </div>
  );
}

/**
 * What a destructive change asks for: the account's password, a danger button, and Cancel back to
 * Account settings; a refusal shows above the field or next to it.
 */
export function PasswordConfirmForm(p: { action: string; csrf: string; submit: string; failure?: FormFailure | undefined; autofocus?: boolean }) {
  return (
    <>
      <FormAlert message={p.failure?.form} />
      <Form action={p.action} csrf={p.csrf}>
        <Field name="password" label="Password" type="password" autocomplete="current-password" required autofocus={p.autofocus} error={p.failure?.fields.password} />
        <SubmitOrCancel>
          <Button variant="danger">{p.submit}</Button>
        </SubmitOrCancel>
      </Form>
    </>
  );
}

/** What went wrong with a submitted form, ready for the template. */
export interface FormFailure {
  status: number;
  headers: Record<string, string>;
  /** Field name → message, for errors that belong next to a field (AppError.field). */
  fields: Record<string, string>;
  /** A message for the whole form. */
  form?: string;
}

/**
 * Turns a refusal from a service into what the form shows. Anything that is not an AppError (or is
 * a server error) is rethrown, so the 500 page handles it and nothing internal reaches the page.
 * `fieldMap` renames service field names to this form's field names.
 */
export function formFailure(err: unknown, fieldMap: Record<string, string> = {}): FormFailure {
  if (!(err instanceof AppError) || err.statusCode >= 500) throw err;
  const base = { status: err.statusCode, headers: err.headers };
  if (err.field) return { ...base, fields: { [fieldMap[err.field] ?? err.field]: err.message } };
  return { ...base, fields: {}, form: err.message };
}

/** A failure found by the page itself (an empty field) before calling a service. */
export function fieldFailure(field: string, message: string, status = 400): FormFailure {
  return { status, headers: {}, fields: { [field]: message } };
}

const MAX_FIELD = 2048;

/**
 * The named text fields of a form body; a missing field is ''. A repeated field or a huge value is
 * refused as bad input (over 2048 characters, or the field's own `maxLength`, e.g. for a security
 * key's answer).
 */
export function readForm<K extends string>(request: FastifyRequest, names: readonly K[], opts: { maxLength?: Partial<Record<K, number>> } = {}): Record<K, string> {
  const body = request.body && typeof request.body === 'object' && !Array.isArray(request.body) ? (request.body as Record<string, unknown>) : {};
  const out = {} as Record<K, string>;
  for (const name of names) {
    const v = Object.hasOwn(body, name) ? body[name] : undefined;
    const max = opts.maxLength?.[name] ?? MAX_FIELD;
    if (v === undefined) out[name] = '';
    else if (typeof v === 'string' && v.length <= max) out[name] = v;
    else throw new AppError(400, 'invalid_request', 'The form was not filled in as expected. Reload the page and try again.');
  }
  return out;
}
