import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import type { Answer } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { REDIRECT, registerRp, type Rp } from '../helpers/oidc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotTables } from '../helpers/snapshot.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** An OAuth error answer: a 4xx whose JSON body names the error in the RFC 6749 shape, never a 500. */
function assertOAuthError(r: Answer, what: string, error?: string): void {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx, got ${r.status} ${r.text.slice(0, 300)}`);
  assert.match(r.headers.get('content-type') ?? '', /json/, `${what}: ${r.text.slice(0, 200)}`);
  assert.match(String(r.json?.error), /^[a-z_]+$/, `${what}: ${r.text.slice(0, 200)}`);
  if (error) assert.equal(r.json.error, error, `${what}: ${r.text.slice(0, 200)}`);
}

function assert4xx(r: Answer, what: string): void {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx, got ${r.status} ${r.text.slice(0, 300)}`);
}

/**
 * Bad input on every OpenID Connect endpoint (SPEC §3, §11): the provider's own errors come out as
 * OAuth errors (JSON on the back-channel endpoints, an error page or a redirect with `error` on the
 * front channel), never a 500, and nothing in the database changes.
 */
for (const { kind, skip } of databaseKinds()) {
  describe(`OpenID Connect bad input on ${kind}`, { skip }, () => {
    let server: TestServer;
    let rp: Rp;
    let basic: string;
    before(async () => {
      server = await startTestServer(kind, { clock: manualClock(Date.now()), publicHost: true });
      rp = await registerRp(server);
      basic = 'Basic ' + Buffer.from(`${rp.id}:${rp.secret}`).toString('base64');
    });
    after(async () => {
      await server?.close();
    });

    test('token endpoint: every malformed request is an OAuth error and writes nothing', async () => {
      const c = server.client();
      const before = await snapshotTables(server.ctx.db);
      const cases: [string, string | undefined, Record<string, string>, string?][] = [
        ['no body', undefined, { authorization: basic }],
        ['empty form', '', { ...FORM, authorization: basic }],
        ['JSON body', JSON.stringify({ grant_type: 'authorization_code', code: 'x' }), { ...JSON_TYPE, authorization: basic }],
        ['malformed form', '%%%&&&===', { ...FORM, authorization: basic }],
        ['unknown grant_type', 'grant_type=password&username=a&password=b', { ...FORM, authorization: basic }, 'unsupported_grant_type'],
        ['unknown code', `grant_type=authorization_code&code=nope&redirect_uri=${encodeURIComponent(REDIRECT)}&code_verifier=${'a'.repeat(43)}`, { ...FORM, authorization: basic }, 'invalid_grant'],
        ['unknown refresh token', 'grant_type=refresh_token&refresh_token=nope', { ...FORM, authorization: basic }, 'invalid_grant'],
        ['duplicate parameter', 'grant_type=refresh_token&grant_type=refresh_token&refresh_token=x', { ...FORM, authorization: basic }],
        ['no client authentication', 'grant_type=refresh_token&refresh_token=x', FORM],
        ['wrong secret', 'grant_type=refresh_token&refresh_token=x', { ...FORM, authorization: 'Basic ' + Buffer.from(`${rp.id}:wrong`).toString('base64') }, 'invalid_client'],
        ['unknown client', 'grant_type=refresh_token&refresh_token=x', { ...FORM, authorization: 'Basic ' + Buffer.from('nobody:wrong').toString('base64') }, 'invalid_client'],
        ['garbage Basic header', 'grant_type=refresh_token&refresh_token=x', { ...FORM, authorization: 'Basic !!!' }],
        ['two client authentications', `grant_type=refresh_token&refresh_token=x&client_id=${rp.id}&client_secret=${rp.secret}`, { ...FORM, authorization: basic }],
        ['huge body', 'grant_type=refresh_token&refresh_token=' + 'x'.repeat(200_000), { ...FORM, authorization: basic }],
        ['NUL byte', 'grant_type=refresh_token&refresh_token=a%00b', { ...FORM, authorization: basic }],
        ['text/plain body', 'grant_type=refresh_token', { 'content-type': 'text/plain', authorization: basic }],
        // The provider's own CORS rule, not Twofold's page Origin check: a client's redirect URI origin may call it.
        ['from another origin', 'grant_type=refresh_token&refresh_token=x', { ...FORM, authorization: basic, origin: 'https://other.example' }, 'invalid_grant'],
        ['from the client origin', 'grant_type=refresh_token&refresh_token=x', { ...FORM, authorization: basic, origin: new URL(REDIRECT).origin }, 'invalid_grant'],
      ];
      for (const [what, body, headers, error] of cases) {
        const r = await c.request('POST', '/oidc/token', body, headers);
        if (what === 'huge body') {
          assert4xx(r, what);
          continue;
        }
        assertOAuthError(r, `token: ${what}`, error);
      }
      assert.deepEqual(await snapshotTables(server.ctx.db), before, 'nothing written');
    });

    test('userinfo and revocation refuse bad tokens and requests with OAuth errors', async () => {
      const c = server.client();
      assertOAuthError(await c.get('/oidc/me'), 'userinfo without a token', 'invalid_token');
      assertOAuthError(await c.get('/oidc/me', { authorization: 'Bearer nope' }), 'userinfo with an unknown token', 'invalid_token');
      assertOAuthError(await c.get('/oidc/me', { authorization: 'Bearer ' + 'x'.repeat(5000) }), 'userinfo with a huge token');
      assertOAuthError(await c.request('POST', '/oidc/me', 'access_token=nope', { ...FORM, origin: 'https://other.example' }), 'userinfo POST from another origin', 'invalid_token');
      assertOAuthError(await c.request('POST', '/oidc/token/revocation', 'token=x', FORM), 'revocation without client auth');
      assertOAuthError(await c.request('POST', '/oidc/token/revocation', '', { ...FORM, authorization: basic }), 'revocation without a token', 'invalid_request');
      // RFC 7009: an unknown token is not an error.
      const ok = await c.request('POST', '/oidc/token/revocation', 'token=unknown', { ...FORM, authorization: basic });
      assert.equal(ok.status, 200, ok.text);
    });

    test('authorization endpoint: bad requests get an error page or an error redirect to the registered URI, never a 500', async () => {
      const c = server.client();
      const q = (p: Record<string, string>) => '/oidc/auth?' + new URLSearchParams(p).toString();
      const base = { client_id: rp.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' };
      const pages: [string, string][] = [
        ['no parameters', '/oidc/auth'],
        ['unknown client', q({ ...base, client_id: 'nobody' })],
        ['unregistered redirect_uri', q({ ...base, redirect_uri: 'https://evil.example/cb' })],
        ['huge client_id', q({ ...base, client_id: 'x'.repeat(4000) })],
        ['NUL in client_id', q({ ...base, client_id: 'a\u0000b' })],
      ];
      for (const [what, path] of pages) {
        const r = await c.get(path);
        assert4xx(r, what);
        assert.equal(r.headers.get('location'), null, `${what}: never redirected anywhere`);
      }
      const redirects: [string, Record<string, string>, string][] = [
        ['unsupported response_type', { ...base, response_type: 'token' }, 'unsupported_response_type'],
        ['plain PKCE', { ...base, code_challenge_method: 'plain' }, 'invalid_request'],
        ['unknown prompt', { ...base, prompt: 'sideways' }, 'invalid_request'],
        ['prompt=none with others', { ...base, prompt: 'none login' }, 'invalid_request'],
        ['bad max_age', { ...base, max_age: 'soon' }, 'invalid_request'],
      ];
      for (const [what, params, error] of redirects) {
        const r = await c.get(q(params));
        assert.equal(r.status, 303, `${what}: ${r.status} ${r.text.slice(0, 400)}`);
        const to = new URL(r.headers.get('location')!);
        assert.equal(to.origin + to.pathname, REDIRECT, what);
        // A response type that would use the fragment gets its error there.
        const answer = to.search ? to.searchParams : new URLSearchParams(to.hash.slice(1));
        assert.equal(answer.get('error'), error, `${what}: ${to.search}${to.hash}`);
      }
      assert4xx(await c.request('POST', '/oidc/auth', '%%%', FORM), 'malformed POST');
    });

    test('end-session, interactions and unknown paths: 4xx, never a 500', async () => {
      const c = server.client();
      assert4xx(await c.get('/oidc/session/end?id_token_hint=garbage'), 'garbage id_token_hint');
      assert4xx(await c.get(`/oidc/session/end?post_logout_redirect_uri=${encodeURIComponent('https://evil.example')}&client_id=${rp.id}`), 'unregistered post-logout URI');
      assert4xx(await c.request('POST', '/oidc/session/end/confirm', 'logout=yes', FORM), 'confirm without xsrf');
      assert4xx(await c.request('POST', '/oidc/session/end/confirm', 'xsrf=forged&logout=yes', FORM), 'confirm with a forged xsrf');
      assert4xx(await c.get('/oidc/interaction/nope'), 'unknown interaction');
      assert4xx(await c.get('/oidc/interaction/' + 'x'.repeat(500)), 'huge interaction id');
      assert4xx(await c.request('POST', '/oidc/interaction/nope/consent', 'decision=allow', FORM), 'consent without a CSRF token');
      const foreign = await c.request('POST', '/oidc/interaction/nope/consent', 'decision=allow', { ...FORM, origin: 'https://other.example' });
      assert.equal(foreign.status, 403, 'Twofold pages keep the Origin check');
      assert4xx(await c.get('/oidc/nothing-here'), 'unknown path');
      assert4xx(await c.request('POST', '/oidc/jwks', '', FORM), 'POST to jwks');
      assert4xx(await c.request('DELETE', '/.well-known/openid-configuration'), 'DELETE discovery');
    });
  });
}
