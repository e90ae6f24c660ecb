import { checkClientInput, type ClientInput } from '../../core/oidc-client.js';
import { randomToken } from '../../core/random.js';
import { deleteClient, findClient, insertClient, listClients, type ClientRow } from '../../store/oidc.js';
import type { Context } from '../context.js';

export interface ClientView {
  id: string;
  name: string;
  public: boolean;
  firstParty: boolean;
  require2fa: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  createdAt: number;
}

export const secretContext = (id: string) => `oidc-client-secret:${id}`;

function view(r: ClientRow): ClientView {
  return {
    id: r.id,
    name: r.name,
    public: r.secret_enc === null,
    firstParty: r.first_party === 1,
    require2fa: r.require_2fa === 1,
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(r.post_logout_redirect_uris) as string[],
    createdAt: r.created_at,
  };
}

/** Registers a client; the secret (confidential clients) is returned here and never again. */
export async function addClient(ctx: Context, input: ClientInput): Promise<{ client: ClientView; secret: string | null }> {
  const c = checkClientInput(input);
  // Not a secret: an identifier RPs put in URLs. Random so that ids reveal nothing about order.
  const id = Buffer.from(ctx.random.bytes(16)).toString('hex');
  const secret = c.public ? null : randomToken(ctx.random);
  const row: ClientRow = {
    id,
    name: c.name,
    secret_enc: secret === null ? null : ctx.box.encrypt(secret, secretContext(id)),
    redirect_uris: JSON.stringify(c.redirectUris),
    post_logout_redirect_uris: JSON.stringify(c.postLogoutRedirectUris),
    first_party: c.firstParty ? 1 : 0,
    require_2fa: c.require2fa ? 1 : 0,
    created_at: ctx.clock.now(),
  };
  await insertClient(ctx.db, row);
  return { client: view(row), secret };
}

export async function getClients(ctx: Context): Promise<ClientView[]> {
  return (await listClients(ctx.db)).map(view);
}

export async function getClient(ctx: Context, id: string): Promise<ClientView | undefined> {
  const r = await findClient(ctx.db, id);
  return r ? view(r) : undefined;
}

export async function removeClient(ctx: Context, id: string): Promise<boolean> {
  return deleteClient(ctx.db, id);
}

/** What oidc-provider is given for a client id: its registered metadata with the opened secret. */
export async function clientMetadata(ctx: Context, id: string): Promise<Record<string, unknown> | undefined> {
  const r = await findClient(ctx.db, id);
  if (!r) return undefined;
  const v = view(r);
  return {
    client_id: v.id,
    client_name: v.name,
    ...(r.secret_enc === null ? { token_endpoint_auth_method: 'none' } : { client_secret: ctx.box.decrypt(r.secret_enc, secretContext(v.id)), token_endpoint_auth_method: 'client_secret_basic' }),
    redirect_uris: v.redirectUris,
    post_logout_redirect_uris: v.postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'web',
    first_party: v.firstParty,
    require_2fa: v.require2fa,
  };
}
