/**
 * The relying-party side of the OpenID Connect tests: openid-client (panva) as a real RP, and a
 * cookie-keeping "browser" that follows the provider's redirects through Twofold's pages.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { ClientInput } from '../../src/core/oidc-client.js';
import { addClient } from '../../src/service/oidc/clients.js';
import { Client, type Answer } from './client.js';
import type { TestServer } from './server.js';

export const REDIRECT = 'http://127.0.0.1:9/callback';
export const POST_LOGOUT = 'http://127.0.0.1:9/signed-out';

export interface Rp {
  id: string;
  secret: string | null;
  config: oidc.Configuration;
}

/** Registers a client (as `twofold clients add` does) and discovers the provider with openid-client. */
export async function registerRp(server: TestServer, input: Partial<ClientInput> = {}, auth: 'basic' | 'post' = 'basic'): Promise<Rp> {
  const { client, secret } = await addClient(server.ctx, {
    name: 'Test App',
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [POST_LOGOUT],
    public: false,
    firstParty: false,
    require2fa: false,
    ...input,
  });
  const method = secret === null ? oidc.None() : auth === 'basic' ? oidc.ClientSecretBasic(secret) : oidc.ClientSecretPost(secret);
  const config = await oidc.discovery(new URL(server.publicUrl), client.id, { id_token_signed_response_alg: 'RS256' }, method, { execute: [oidc.allowInsecureRequests] });
  return { id: client.id, secret, config };
}

export interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authRequest(rp: Rp, params: Record<string, string> = {}): Promise<AuthRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: REDIRECT,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

/** The browser, for the provider's host: PUBLIC_URL (pages redirect other host names there). */
export function browserFor(server: TestServer): Client {
  return new Client(server.publicUrl);
}

export interface Stop {
  /** Where the browser was sent outside Twofold (the RP's redirect URI), if it got there. */
  callback?: URL;
  /** Otherwise the page it stopped at, and its path. */
  page?: Answer;
  path?: string;
}

/** Follows redirects within Twofold until the browser leaves for the RP or a page is shown. */
export async function follow(server: TestServer, browser: Client, start: URL | string): Promise<Stop> {
  let url = new URL(start, server.publicUrl);
  for (let hops = 0; hops < 20; hops++) {
    if (url.origin !== new URL(server.publicUrl).origin) return { callback: url };
    const r = await browser.get(url.pathname + url.search);
    const location = r.headers.get('location');
    if ((r.status === 302 || r.status === 303 || r.status === 308) && location) {
      url = new URL(location, url);
      continue;
    }
    // The hand-over page: a meta refresh, which a browser follows like a redirect.
    const to = refreshOf(r);
    if (to) {
      url = new URL(to, url);
      continue;
    }
    return { page: r, path: url.pathname + url.search };
  }
  throw new Error('too many redirects');
}

/** Where a hand-over page (meta refresh) sends the browser, if it is one. */
export function refreshOf(r: Answer): string | undefined {
  const m = r.status === 200 ? /<meta http-equiv="refresh" content="0;url=([^"]+)"/.exec(r.text) : null;
  return m ? m[1]!.replace(/&amp;/g, '&') : undefined;
}

export function csrfOf(page: Answer): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(page.text);
  assert.ok(m, `no CSRF token in ${page.text.slice(0, 300)}`);
  return m[1]!;
}

export function form(fields: Record<string, string>): [string, Record<string, string>] {
  return [new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded' }];
}

/** Posts a form of the page at `path` and follows where it leads. */
export async function submit(server: TestServer, browser: Client, page: Answer, action: string, fields: Record<string, string>): Promise<Stop> {
  const [body, headers] = form({ _csrf: csrfOf(page), ...fields });
  const r = await browser.post(action, body, headers);
  const location = r.headers.get('location');
  if ((r.status === 302 || r.status === 303) && location) return follow(server, browser, new URL(location, server.publicUrl));
  const to = refreshOf(r);
  if (to) return follow(server, browser, new URL(to, server.publicUrl));
  return { page: r, path: action };
}

/** The action of the page's main form (HTML-unescaped). */
export function actionOf(page: Answer, index = 0): string {
  const all = [...page.text.matchAll(/<form[^>]*action="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
  assert.ok(all[index], `no form in ${page.text.slice(0, 300)}`);
  return all[index]!;
}

/** Redeems the code at the callback with openid-client, checking state, nonce and PKCE. */
export async function redeem(rp: Rp, req: AuthRequest, callback: URL, checks: Partial<oidc.AuthorizationCodeGrantChecks> = {}) {
  return oidc.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true, ...checks });
}
