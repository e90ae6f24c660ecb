/**
 * OpenID Connect clients as operators register them (SPEC §11): checks on what the CLI is given.
 * Redirect URIs are compared exactly by the provider, so they are kept exactly as given.
 */
export interface ClientInput {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  public: boolean;
  firstParty: boolean;
  require2fa: boolean;
}

export class ClientInputError extends Error {
  override name = 'ClientInputError';
}

/** An absolute http(s) URI without a fragment; plain http only for loopback and localhost. */
export function checkRedirectUri(value: string, what = 'redirect URI'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ClientInputError(`${what} "${value}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ClientInputError(`${what} "${value}" must be http or https`);
  if (url.hash || value.includes('#')) throw new ClientInputError(`${what} "${value}" must not have a fragment`);
  if (url.username || url.password) throw new ClientInputError(`${what} "${value}" must not carry a user name or password`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) throw new ClientInputError(`${what} "${value}" contains spaces or control characters`);
  return value;
}

export function checkClientInput(input: ClientInput): ClientInput {
  const name = input.name.trim();
  if (!name || name.length > 100) throw new ClientInputError('--name must be 1 to 100 characters');
  if (input.redirectUris.length === 0) throw new ClientInputError('at least one --redirect-uri is needed');
  const redirectUris = [...new Set(input.redirectUris.map((u) => checkRedirectUri(u)))];
  const postLogoutRedirectUris = [...new Set(input.postLogoutRedirectUris.map((u) => checkRedirectUri(u, 'post-logout redirect URI')))];
  return { ...input, name, redirectUris, postLogoutRedirectUris };
}

/** The scopes Twofold offers, and what each one shows on the consent page. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in with your Twofold account',
  email: 'Your email address',
  profile: 'Your basic profile (your name as Twofold knows it)',
  groups: 'The groups you belong to',
  offline_access: 'Stay connected when you are not using it (refresh tokens)',
};
export const SCOPES = Object.keys(SCOPE_DESCRIPTIONS);
