import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../../src/core/clock.js';
import { createAdminToken, revokeToken } from '../../src/service/admin/tokens.js';
import { assertJsonError, type Client } from '../helpers/client.js';
import { databaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotTables } from '../helpers/snapshot.js';
import { API, assertError, enableTwoFactor, logTypes, PASSWORD, signupWithTwoFactor, totpLogin, userIdOf, type TwoFactorUser } from '../helpers/totp.js';

const MIN = 60_000;

for (const { kind, skip } of databaseKinds()) {
  describe(`the admin API (${kind})`, { skip }, () => {
    const clock = manualClock();
    let server: TestServer;
    let admin: TwoFactorUser;
    let personId: string;
    let person: Client;

    async function addToGroup(email: string, group: string) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      await (server.ctx.db as any).insertInto('user_groups').values({ user_id: await userIdOf(server, email), name: group, created_at: clock.now() }).execute();
    }

    before(async () => {
      server = await startTestServer(kind, { clock });
      admin = await signupWithTwoFactor(server, clock, 'admin@example.com');
      await addToGroup('admin@example.com', 'admins');
      person = server.client();
      assert.equal((await person.post(`${API}/signup`, { email: 'person@example.com', password: PASSWORD })).status, 201);
      personId = await userIdOf(server, 'person@example.com');
    });
    after(async () => {
      await server?.close();
    });

    async function freshAdmin(): Promise<Client> {
      return (await totpLogin(server, clock, admin)).client;
    }

    test('a non-admin gets 403 forbidden on every admin route; no session gets 401', async () => {
      for (const [method, path] of [
        ['GET', '/admin/users'],
        ['GET', `/admin/users/${personId}`],
        ['POST', `/admin/users/${personId}/lock`],
        ['DELETE', `/admin/users/${personId}`],
        ['GET', '/admin/audit-log'],
      ] as const) {
        assertError(await person.request(method, `${API}${path}`), 403, 'forbidden', `${method} ${path}`);
        assertError(await server.client().request(method, `${API}${path}`), 401, 'unauthenticated', `${method} ${path}`);
      }
    });

    test('an admin without 2FA gets 403 two_factor_setup_required; a stale admin session 403 reauthentication_required', async () => {
      const noTwoFactor = server.client();
      assert.equal((await noTwoFactor.post(`${API}/signup`, { email: 'admin2@example.com', password: PASSWORD })).status, 201);
      await addToGroup('admin2@example.com', 'admins');
      assertError(await noTwoFactor.get(`${API}/admin/users`), 403, 'two_factor_setup_required');
      assertError(await noTwoFactor.post(`${API}/admin/users/${personId}/lock`), 403, 'two_factor_setup_required');

      const stale = await freshAdmin();
      clock.advance(11 * MIN);
      assertError(await stale.get(`${API}/admin/users`), 403, 'reauthentication_required');
      assertError(await stale.post(`${API}/admin/users/${personId}/lock`), 403, 'reauthentication_required');
      assert.equal((await person.get(`${API}/me`)).status, 200, 'nothing happened to the person');
    });

    test('search by email, one account, and paging with before', async () => {
      const c = await freshAdmin();
      const all = await c.get(`${API}/admin/users`);
      assert.equal(all.status, 200, all.text);
      const found = await c.get(`${API}/admin/users?q=PERSON@`);
      assert.equal(found.json.length, 1);
      const u = found.json[0];
      assert.deepEqual(Object.keys(u).sort(), ['createdAt', 'email', 'groups', 'id', 'lastLoginAt', 'locked', 'twoFactor']);
      assert.equal(u.email, 'person@example.com');
      assert.equal(u.locked, false);
      assert.deepEqual(u.twoFactor, { enabled: false, methods: [] });
      const a = (await c.get(`${API}/admin/users?q=admin@`)).json[0];
      assert.deepEqual(a.groups, ['admins']);
      assert.equal(a.twoFactor.enabled, true);
      assert.ok(a.lastLoginAt);
      assert.equal((await c.get(`${API}/admin/users?q=%25`)).json.length, 0, 'a LIKE wildcard is matched literally');
      const one = await c.get(`${API}/admin/users/${personId}`);
      assert.equal(one.json.email, 'person@example.com');
      assertError(await c.get(`${API}/admin/users/unknown`), 404, 'not_found');

      const page1 = await c.get(`${API}/admin/users?limit=1`);
      assert.equal(page1.json.length, 1);
      const page2 = await c.get(`${API}/admin/users?limit=1&before=${page1.json[0].id}`);
      assert.equal(page2.json.length, 1);
      assert.notEqual(page2.json[0].id, page1.json[0].id);
      assertError(await c.get(`${API}/admin/users?limit=0`), 400, 'invalid_request');
    });

    test('lock ends the sessions and refuses login after the password; unlock; both in the security log and the audit log', async () => {
      const c = await freshAdmin();
      assert.equal((await c.post(`${API}/admin/users/${personId}/lock`)).status, 204);
      assertError(await person.get(`${API}/me`), 401, 'unauthenticated');
      assertError(await server.client().post(`${API}/login`, { email: 'person@example.com', password: 'wrong password!' }), 401, 'invalid_credentials');
      assertError(await server.client().post(`${API}/login`, { email: 'person@example.com', password: PASSWORD }), 403, 'account_locked');
      assert.equal((await c.get(`${API}/admin/users/${personId}`)).json.locked, true);
      assert.equal((await c.post(`${API}/admin/users/${personId}/unlock`)).status, 204);
      person = server.client();
      assert.equal((await person.post(`${API}/login`, { email: 'person@example.com', password: PASSWORD })).status, 200);
      const types = await logTypes(person);
      assert.ok(types.includes('account_locked') && types.includes('account_unlocked'));
      const audit = await c.get(`${API}/admin/audit-log?limit=10`);
      assert.equal(audit.status, 200, audit.text);
      const actions = audit.json.map((e: { action: string }) => e.action);
      assert.deepEqual(actions.slice(0, 2), ['unlock', 'lock']);
      assert.equal(audit.json[0].actor, 'admin@example.com');
      assert.equal(audit.json[0].actorKind, 'session');
      assert.equal(audit.json[0].targetEmail, 'person@example.com');
      // The person was told by email, through the outbox, of both.
      const mails = await server.ctx.db.selectFrom('mail_outbox').select('kind').where('user_id', '=', personId).where('kind', '=', 'admin_action').execute();
      assert.equal(mails.length, 2);
    });

    test('reset-2fa, revoke-sessions and groups', async () => {
      const c = await freshAdmin();
      await enableTwoFactor(person, clock);
      assert.equal((await c.post(`${API}/admin/users/${personId}/reset-2fa`)).status, 204);
      assert.equal((await c.get(`${API}/admin/users/${personId}`)).json.twoFactor.enabled, false);
      person = server.client();
      assert.equal((await person.post(`${API}/login`, { email: 'person@example.com', password: PASSWORD })).status, 200);
      assert.equal((await c.post(`${API}/admin/users/${personId}/revoke-sessions`)).status, 204);
      assertError(await person.get(`${API}/me`), 401, 'unauthenticated');
      const g = await c.request('PUT', `${API}/admin/users/${personId}/groups`, { groups: ['Staff', 'dev'] });
      assert.equal(g.status, 200, g.text);
      assert.deepEqual(g.json, { groups: ['dev', 'staff'] });
      assertError(await c.request('PUT', `${API}/admin/users/${personId}/groups`, { groups: ['bad name'] }), 400, 'invalid_group');
      assertError(await c.request('PUT', `${API}/admin/users/${personId}/groups`, { groups: 'staff' }), 400, 'invalid_request');
      person = server.client();
      assert.equal((await person.post(`${API}/login`, { email: 'person@example.com', password: PASSWORD })).status, 200);
      for (const t of ['admin_two_factor_reset', 'admin_sessions_revoked', 'groups_changed']) assert.ok((await logTypes(person)).includes(t), t);
    });

    test('admin tokens: Bearer works on /api/v1/admin only; bad and revoked tokens get 401; stored only hashed', async () => {
      const { id, token } = await createAdminToken(server.ctx, 'ci script');
      const bearer = { authorization: `Bearer ${token}` };
      const list = await server.client().get(`${API}/admin/users?q=person`, bearer);
      assert.equal(list.status, 200, list.text);
      assert.equal(list.json[0].email, 'person@example.com');
      // No CSRF token, no cookie: a POST with a bearer token goes through.
      assert.equal((await server.client().post(`${API}/admin/users/${personId}/revoke-sessions`, undefined, bearer)).status, 204);
      // A foreign Origin is still refused, token or not.
      assertError(await server.client().post(`${API}/admin/users/${personId}/revoke-sessions`, undefined, { ...bearer, origin: 'https://evil.example' }), 403, 'cross_origin_request');
      // The token is for the admin API only.
      assertError(await server.client().get(`${API}/me`, bearer), 401, 'unauthenticated');
      const audit = await server.client().get(`${API}/admin/audit-log?limit=1`, bearer);
      assert.equal(audit.json[0].actorKind, 'token');
      assert.match(audit.json[0].actor, /ci script/);

      for (const bad of [`Bearer ${token}x`, 'Bearer nope', `Basic ${token}`, `Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`]) {
        const r = await server.client().get(`${API}/admin/users`, { authorization: bad });
        assertError(r, 401, 'unauthenticated', bad);
      }
      // A bad token with a valid admin cookie is still refused: a bearer header never falls back.
      const c = await freshAdmin();
      assertError(await c.get(`${API}/admin/users`, { authorization: 'Bearer nope' }), 401, 'unauthenticated');

      const dump = JSON.stringify(await snapshotTables(server.ctx.db));
      assert.ok(!dump.includes(token), 'the token is not in the database');
      assert.ok(!dump.includes(token.slice('twofold_admin_'.length)), 'nor its random part');

      await revokeToken(server.ctx, id);
      assertError(await server.client().get(`${API}/admin/users`, bearer), 401, 'unauthenticated');
    });

    test('a cookie session on the admin API still needs the Origin check', async () => {
      const c = await freshAdmin();
      assertError(await c.post(`${API}/admin/users/${personId}/revoke-sessions`, undefined, { origin: 'https://evil.example' }), 403, 'cross_origin_request');
      const form = await c.request('POST', `${API}/admin/users/${personId}/lock`, 'a=1', { 'content-type': 'application/x-www-form-urlencoded' });
      assertJsonError(form, 'a form post to the admin API', 415);
      assert.equal((await c.get(`${API}/admin/users/${personId}`)).json.locked, false);
    });

    test('delete removes everything of the account; the audit log keeps the record', async () => {
      const c = await freshAdmin();
      const victim = server.client();
      assert.equal((await victim.post(`${API}/signup`, { email: 'bye@example.com', password: PASSWORD })).status, 201);
      const id = await userIdOf(server, 'bye@example.com');
      assert.equal((await c.delete(`${API}/admin/users/${id}`)).status, 204);
      assertError(await victim.get(`${API}/me`), 401, 'unauthenticated');
      assertError(await c.get(`${API}/admin/users/${id}`), 404, 'not_found');
      assertError(await c.delete(`${API}/admin/users/${id}`), 404, 'not_found');
      const snapshot = await snapshotTables(server.ctx.db);
      for (const [table, rows] of Object.entries(snapshot)) {
        if (table === 'admin_audit_log') continue;
        // The one thing left: the notice of the deletion itself, still to be delivered.
        const left = rows.filter((row) => row.includes(id) && !(table === 'mail_outbox' && row.includes('"admin_action"')));
        assert.deepEqual(left, [], `${table} still has the account`);
      }
      const audit = (await c.get(`${API}/admin/audit-log?limit=1`)).json[0];
      assert.equal(audit.action, 'delete');
      const told = await server.ctx.db.selectFrom('mail_outbox').select(['kind', 'to_address']).where('user_id', '=', id).execute();
      assert.deepEqual(told, [{ kind: 'admin_action', to_address: 'bye@example.com' }], 'the deletion notice outlives the account');
      assert.equal(audit.targetEmail, 'bye@example.com');
    });
  });
}
