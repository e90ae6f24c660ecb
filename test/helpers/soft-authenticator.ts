/**
 * A software FIDO2 authenticator for the API tests, built on node:crypto only (no project code):
 * EC P-256 keys (COSE ES256), `none` attestation, and the JSON that @simplewebauthn/browser would
 * hand to the server. Knobs let a test break one rule at a time: user presence, user verification,
 * the signature, the counter, the origin, the credential id, the user handle. Credentials created
 * with `residentKey: 'required'` are discoverable: they keep the account's user handle and answer a
 * request without an allowed-credential list (a passkey).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// ---- a tiny CBOR encoder (RFC 8949): just the types attestation objects and COSE keys need ----

export type CborValue = number | string | Uint8Array | CborValue[] | Map<CborValue, CborValue> | { [key: string]: CborValue };

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  if (n < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  }
  throw new Error('CBOR: integers above 2^32 are not needed here');
}

export function cbor(v: CborValue): Buffer {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('CBOR: integers only');
    return v >= 0 ? head(0, v) : head(1, -1 - v);
  }
  if (typeof v === 'string') {
    const bytes = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  const entries: [CborValue, CborValue][] = v instanceof Map ? [...v] : Object.entries(v);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, val]) => [cbor(k), cbor(val)])]);
}

// ---- the authenticator ----

const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();
const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  cosePublicKey: Buffer;
  rpId: string;
  counter: number;
  /** base64url user.id of the creation options, kept by a discoverable credential (a passkey). */
  userHandle: string | null;
}

interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user?: { id: string };
  excludeCredentials?: { id: string }[];
  authenticatorSelection?: { residentKey?: string; userVerification?: string };
}
interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

export interface RegistrationJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: 'cross-platform';
}

export interface AssertionJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: 'cross-platform';
}

export interface AssertionKnobs {
  /** Which credential answers (default: the first of allowCredentials this authenticator holds). */
  credentialId?: string;
  /** The user-presence flag (default true). */
  userPresent?: boolean;
  /** Sign something else, giving a well-formed but wrong signature. */
  badSignature?: boolean;
  /** Use this counter instead of the next one (the stored counter is not advanced). */
  counter?: number;
  origin?: string;
  challenge?: string;
  /** The user-verification flag (default: true when the request requires it, else false). */
  userVerified?: boolean;
  /** Send this user handle instead of the credential's (null: none). */
  userHandle?: string | null;
}

export interface CreationKnobs {
  userPresent?: boolean;
  /** The user-verification flag (default: true when the options require it, else false). */
  userVerified?: boolean;
  credentialId?: Buffer;
  origin?: string;
  /** The authenticator model (16 bytes; default all zeros, "none given"). */
  aaguid?: Buffer;
}

export class SoftAuthenticator {
  readonly credentials = new Map<string, SoftCredential>();

  /**
   * @param origin what the "browser" puts into clientDataJSON
   * @param counting false for an authenticator without a signature counter (always 0)
   */
  constructor(
    readonly origin: string,
    readonly counting = true,
  ) {}

  /** navigator.credentials.create(): a new EC P-256 credential with `none` attestation. */
  create(options: CreationOptions, knobs: CreationKnobs = {}): RegistrationJSON {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
    for (const id of this.credentials.keys()) if (excluded.has(id)) throw new Error('InvalidStateError: this authenticator is already registered');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cosePublicKey = cbor(
      new Map<CborValue, CborValue>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const id = knobs.credentialId ?? randomBytes(32);
    const counter = this.counting ? 1 : 0;
    const discoverable = options.authenticatorSelection?.residentKey === 'required';
    const cred: SoftCredential = { id, privateKey, cosePublicKey, rpId, counter, userHandle: discoverable ? (options.user?.id ?? null) : null };
    const uv = knobs.userVerified ?? options.authenticatorSelection?.userVerification === 'required';
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(id.length);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([(knobs.userPresent === false ? 0 : FLAG_UP) | (uv ? FLAG_UV : 0) | FLAG_AT]),
      counterBytes(counter),
      knobs.aaguid ?? Buffer.alloc(16), // AAGUID: none by default
      idLen,
      id,
      cosePublicKey,
    ]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: knobs.origin ?? this.origin, crossOrigin: false }));
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    this.credentials.set(b64url(id), cred);
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['usb'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    };
  }

  /** navigator.credentials.get(): an assertion signed over authenticatorData || SHA-256(clientDataJSON). */
  get(options: RequestOptions & { userVerification?: string }, knobs: AssertionKnobs = {}): AssertionJSON {
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    // Without an allowed list only discoverable credentials can answer (as a real authenticator).
    const discoverable = [...this.credentials].find(([, c]) => c.userHandle !== null)?.[0];
    const id = knobs.credentialId ?? (allowed.length ? allowed.find((a) => this.credentials.has(a)) : discoverable) ?? [...this.credentials.keys()][0];
    const cred = id === undefined ? undefined : this.credentials.get(id);
    if (!id || !cred) throw new Error('NotAllowedError: no credential of this authenticator is allowed');
    let counter: number;
    if (knobs.counter !== undefined) counter = knobs.counter;
    else {
      if (this.counting) cred.counter += 1;
      counter = cred.counter;
    }
    const uv = knobs.userVerified ?? options.userVerification === 'required';
    const flags = (knobs.userPresent === false ? 0 : FLAG_UP) | (uv ? FLAG_UV : 0);
    const authData = Buffer.concat([sha256(options.rpId ?? cred.rpId), Buffer.from([flags]), counterBytes(counter)]);
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge: knobs.challenge ?? options.challenge, origin: knobs.origin ?? this.origin, crossOrigin: false }),
    );
    const signed = Buffer.concat([authData, sha256(clientDataJSON)]);
    // ES256 signatures are DER-encoded ECDSA (node's default encoding).
    const userHandle = knobs.userHandle === undefined ? cred.userHandle : knobs.userHandle;
    const signature = sign('sha256', knobs.badSignature ? Buffer.concat([signed, Buffer.from('tampered')]) : signed, cred.privateKey);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature), ...(userHandle ? { userHandle } : {}) },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    };
  }
}

function counterBytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
