import type { FastifyReply } from 'fastify';
import type { Context } from '../../service/context.js';
import { AppError } from '../../service/errors.js';
import { addSecurityKey, removeSecurityKey, renameKey } from '../../service/security-keys.js';
import { clearCookie, cookieNames } from '../cookies.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { fieldFailure, formFailure, readForm, type FormFailure } from './forms.js';
import { signedInPage } from './page-context.js';
import { sendPage } from './render.js';
import { fresh, isReauthRequired, toReauthenticate } from './second-factor-fields.js';
import { GARBLED_RESPONSE, KEY_RESPONSE_MAX, NEEDS_JAVASCRIPT, parseKeyResponse } from './security-key-views.js';

const PASSKEY_NEEDS_JAVASCRIPT = 'Passkeys need JavaScript: the browser creates them through it. Turn JavaScript on for this site and try again.';
import { showSettings } from './settings.js';
import { CodesShownPage, freshCodesFile } from './two-factor-setup.js';

/** Refusals that concern only the name: the key's answer is still good for another try. */
const NAME_PROBLEMS = new Set(['invalid_name', 'name_taken']);

/**
 * Back to Account settings with a notice; or, when this was the account's first second factor (so
 * two-factor authentication just went on), its recovery codes, shown once.
 */
function afterAdding(
  ctx: Context,
  reply: FastifyReply,
  csrf: string,
  email: string,
  added: Awaited<ReturnType<typeof addSecurityKey>>,
  factor: 'key' | 'passkey',
) {
  if (!added.recoveryCodes) return reply.redirect(`/settings?notice=${factor}_added#security-keys`, 303);
  return sendPage(
    reply,
    <CodesShownPage
      csrf={csrf}
      email={email}
      codes={added.recoveryCodes}
      fileText={freshCodesFile(ctx, email, added.recoveryCodes)}
      kind="setup"
      factor={factor}
      hashed={ctx.config.recoveryCodes === 'hashed'}
    />,
  );
}

/** Adding and removing security keys from Account settings (the ceremony itself runs in public/security-keys.js). */
export function securityKeyPages(app: App, ctx: Context, authRateLimit: { max: number; timeWindow: number }): void {
  const names = cookieNames(ctx.config);

  app.post('/settings/security-keys', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['name', 'response'], { maxLength: { response: KEY_RESPONSE_MAX } });
    const base = await signedInPage(ctx, request, reply);
    const { csrf, auth } = base;
    // The script asked for options first and was sent here if the session was not fresh; a
    // ceremony that outlasted the 10 minutes lands here too.
    if (!fresh(ctx, auth)) return toReauthenticate(reply, '/settings');
    const show = (failure: FormFailure, keepResponse = false) =>
      showSettings(ctx, request, reply, base, { name: form.name, response: keepResponse ? form.response : undefined, failure });

    const response = parseKeyResponse(form.response);
    if (!form.response.trim()) {
      // Without JavaScript there is no answer from a key; a missing name is still worth saying first.
      if (!form.name.trim()) return show(fieldFailure('name', 'Give the key a name, like “Blue YubiKey”.'));
      return show({ status: 400, headers: {}, fields: {}, form: NEEDS_JAVASCRIPT });
    }
    if (response === undefined) return show({ status: 400, headers: {}, fields: {}, form: GARBLED_RESPONSE });

    let added: Awaited<ReturnType<typeof addSecurityKey>>;
    try {
      added = await addSecurityKey(ctx, auth.session, { name: form.name, response }, requestMeta(request));
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, '/settings');
      const nameOnly = err instanceof AppError && NAME_PROBLEMS.has(err.code);
      return show(formFailure(err), nameOnly);
    }
    return afterAdding(ctx, reply, csrf, auth.email, added, 'key');
  });

  app.post('/settings/security-keys/:id/remove', async (request, reply) => {
    const { auth } = await signedInPage(ctx, request, reply);
    if (!fresh(ctx, auth)) return toReauthenticate(reply, '/settings');
    const id = String((request.params as Record<string, unknown>).id ?? '');
    let twoFactorDisabled = false;
    let what = 'key';
    try {
      const removed = await removeSecurityKey(ctx, auth.session, id, requestMeta(request));
      twoFactorDisabled = removed.twoFactorDisabled;
      if (removed.kind === 'passkey') what = 'passkey';
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, '/settings');
      // Already gone (removed in another tab): the list simply no longer shows it.
      if (!(err instanceof AppError && err.code === 'not_found')) throw err;
    }
    // Two-factor authentication went off with the last key: this browser's trust cookie is dead too.
    if (twoFactorDisabled) clearCookie(reply, ctx.config, names.device);
    return reply.redirect(`/settings?notice=${what}_removed${twoFactorDisabled ? '_two_factor_off' : ''}#security-keys`, 303);
  });

  // Add passkey: no name to give (it is named after the device); the ceremony runs in public/security-keys.js.
  app.post('/settings/passkeys', { config: { rateLimit: authRateLimit } }, async (request, reply) => {
    const form = readForm(request, ['response'], { maxLength: { response: KEY_RESPONSE_MAX } });
    const base = await signedInPage(ctx, request, reply);
    const { csrf, auth } = base;
    if (!fresh(ctx, auth)) return toReauthenticate(reply, '/settings');
    const show = (failure: FormFailure) => showSettings(ctx, request, reply, base, { target: { kind: 'passkey' }, name: '', failure });
    if (!form.response.trim()) return show({ status: 400, headers: {}, fields: {}, form: PASSKEY_NEEDS_JAVASCRIPT });
    const response = parseKeyResponse(form.response);
    if (response === undefined) return show({ status: 400, headers: {}, fields: {}, form: GARBLED_RESPONSE });
    let added: Awaited<ReturnType<typeof addSecurityKey>>;
    try {
      added = await addSecurityKey(ctx, auth.session, { name: '', response }, requestMeta(request), 'passkey');
    } catch (err) {
      if (isReauthRequired(err)) return toReauthenticate(reply, '/settings');
      return show(formFailure(err));
    }
    return afterAdding(ctx, reply, csrf, auth.email, added, 'passkey');
  });

  // Rename: not a sensitive change (it grants nothing), so a signed-in session is enough.
  app.post('/settings/security-keys/:id/rename', async (request, reply) => {
    const form = readForm(request, ['name']);
    const base = await signedInPage(ctx, request, reply);
    const id = String((request.params as Record<string, unknown>).id ?? '');
    try {
      await renameKey(ctx, base.auth.session.userId, id, { name: form.name }, requestMeta(request));
    } catch (err) {
      // Removed in another tab: the list simply no longer shows it.
      if (err instanceof AppError && err.code === 'not_found') return reply.redirect('/settings#security-keys', 303);
      return showSettings(ctx, request, reply, base, { target: { kind: 'rename', id }, name: form.name, failure: formFailure(err) });
    }
    return reply.redirect('/settings?notice=key_renamed#security-keys', 303);
  });
}
