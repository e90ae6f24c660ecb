import { generateKeyPair, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { randomId } from '../../core/random.js';
import { insertActiveKey, publishedKeys, rotateKeys, type SigningKeyRow } from '../../store/oidc.js';
import type { Context } from '../context.js';

/** The algorithms Twofold signs ID tokens with (SPEC §11). */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** ID tokens are the only tokens signed, and they live this long: a retired key is published as long. */
export const ID_TOKEN_TTL_S = 3600;

export interface PrivateJwk extends JsonWebKey {
  kid: string;
  alg: SigningAlg;
  use: 'sig';
}

const sealContext = (kid: string) => `oidc-signing-key:${kid}`;

const generate = promisify(generateKeyPair) as (type: 'rsa' | 'ec', options: object) => Promise<{ privateKey: KeyObject; publicKey: KeyObject }>;

/** Generated off the event loop: an RSA key takes long enough to stall requests. */
async function makeKey(ctx: Context, alg: SigningAlg): Promise<{ row: SigningKeyRow; jwk: PrivateJwk }> {
  const pair = alg === 'RS256' ? await generate('rsa', { modulusLength: 2048 }) : await generate('ec', { namedCurve: 'P-256' });
  const kid = randomId(ctx.random);
  const jwk: PrivateJwk = { ...pair.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return {
    jwk,
    row: {
      kid,
      alg,
      active_alg: alg,
      private_jwk_enc: ctx.box.encrypt(JSON.stringify(jwk), sealContext(kid)),
      created_at: ctx.clock.now(),
      retired_at: null,
      publish_until: null,
    },
  };
}

/** Makes the first keys when there are none; when several nodes start together one of them wins. */
export async function ensureSigningKeys(ctx: Context): Promise<void> {
  const have = new Set((await publishedKeys(ctx.db, ctx.clock.now())).filter((k) => k.active_alg).map((k) => k.alg));
  for (const alg of SIGNING_ALGS) if (!have.has(alg)) await insertActiveKey(ctx.db, (await makeKey(ctx, alg)).row);
}

/** The private keys to give the provider: the signing ones first, then the retired ones still published. */
export async function loadSigningKeys(ctx: Context): Promise<PrivateJwk[]> {
  const rows = await publishedKeys(ctx.db, ctx.clock.now());
  return rows.map((r) => JSON.parse(ctx.box.decrypt(r.private_jwk_enc, sealContext(r.kid))) as PrivateJwk);
}

/** New RS256 and ES256 keys sign from now on; the old ones stay published until their tokens expire. */
export async function rotateSigningKeys(ctx: Context): Promise<{ kids: string[] }> {
  const fresh = (await Promise.all(SIGNING_ALGS.map((alg) => makeKey(ctx, alg)))).map((k) => k.row);
  await rotateKeys(ctx.db, fresh, ctx.clock.now(), ID_TOKEN_TTL_S * 1000);
  return { kids: fresh.map((r) => r.kid) };
}
