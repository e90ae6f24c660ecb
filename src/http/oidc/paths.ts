import type { Session } from '../../core/session.js';

/** Where the provider's endpoints live (SPEC §11): discovery at the root, everything else under /oidc/. */
export const OIDC_PREFIX = '/oidc/';
export const INTERACTION_PREFIX = '/oidc/interaction/';

/** The provider's own endpoints: the Origin check (SPEC §3) does not apply, they serve other sites. */
export function isProviderPath(url: string): boolean {
  return url.startsWith(OIDC_PREFIX) && !url.startsWith(INTERACTION_PREFIX);
}

/** The moment a Twofold session last proved who it is: its login, or a later re-authentication. */
export function loginTimeOf(s: Pick<Session, 'createdAt' | 'authenticatedAt'>): number {
  return Math.max(s.createdAt, s.authenticatedAt ?? 0);
}
