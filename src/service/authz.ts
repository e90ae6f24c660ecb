import { readFileSync } from 'node:fs';
import { hasSecondFactor } from '../core/amr.js';
import { AccessRulesError, decide, parseAccessRules, type AccessRequest, type AccessRules, type Decision } from '../core/access-rules.js';
import { safeReturnUrl, type ReturnUrlPolicy } from '../core/return-url.js';
import { resolveSession, type ActiveSession } from './sessions.js';
import type { Context } from './context.js';

/** Reads and compiles the rules file; every failure is an AccessRulesError naming the file (and line). */
export function loadAccessRulesFile(path: string): AccessRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AccessRulesError(`TWOFOLD_ACCESS_RULES: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, undefined);
  }
  return parseAccessRules(text, path);
}

/**
 * SIGHUP: the new rules replace the old ones only when the whole file is good; otherwise the old
 * rules stay and the reason is returned for the log.
 */
export function reloadAccessRules(ctx: Context): { ok: true; rules: number } | { ok: false; reason: string } {
  const path = ctx.config.accessRulesPath;
  if (!path) return { ok: false, reason: 'TWOFOLD_ACCESS_RULES is not set; nothing to reload' };
  try {
    const rules = loadAccessRulesFile(path);
    ctx.accessRules.current = rules;
    return { ok: true, rules: rules.rules.length };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

export function returnUrlPolicy(ctx: Context): ReturnUrlPolicy {
  return { publicHostname: ctx.config.publicUrl.hostname.toLowerCase(), cookieDomain: ctx.config.cookieDomain };
}

/** `rd` as it may be followed, or undefined (ignored: no open redirect). */
export function returnUrl(ctx: Context, rd: unknown): string | undefined {
  return safeReturnUrl(rd, returnUrlPolicy(ctx));
}

export interface Authorization {
  decision: Decision;
  /** The signed-in person, when there is one (a pending login is nobody yet). */
  auth: ActiveSession | null;
}

/**
 * One forward-auth decision: one indexed session lookup (with the account's groups in the same
 * query) and an in-memory match of the compiled rules.
 */
export async function authorize(ctx: Context, token: string | undefined, request: AccessRequest): Promise<Authorization> {
  const found = await resolveSession(ctx, token, { groups: true });
  const auth = found && !found.session.pending ? found : null;
  const decision = decide(
    ctx.accessRules.current,
    request,
    auth
      ? { email: auth.email, groups: auth.groups ?? [], secondFactor: hasSecondFactor(auth.session.amr), authenticatedAt: auth.session.authenticatedAt }
      : null,
    ctx.clock.now(),
  );
  return { decision, auth };
}

/** The request a protected URL stands for, or null when it is not an http(s) URL with a host. */
export function accessRequestOf(url: URL, method: string): AccessRequest {
  return { host: url.hostname.toLowerCase(), path: url.pathname + url.search, method: method.toUpperCase() };
}
