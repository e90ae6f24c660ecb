import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { cryptoRandom } from './random.js';

/**
 * Encryption of secrets at rest (TOTP secrets, viewable recovery codes) with AES-256-GCM, and keyed
 * hashes (HMAC-SHA256) for lookups. Every ciphertext names the key that made it, so a new
 * TWOFOLD_SECRET can be rolled in while old rows still decrypt with the previous one.
 *
 * Format: `v1.<keyId>.<iv>.<ciphertext+tag>` (base64url parts).
 */
export interface SecretBox {
  readonly keyId: string;
  /** `context` is bound as associated data: a ciphertext moved to another row or purpose fails. */
  encrypt(plaintext: string, context: string): string;
  decrypt(sealed: string, context: string): string;
  /** Keyed hash for finding a secret by value without storing it. */
  mac(purpose: string, value: string): string;
  /** The keyed hash under the current key, then under each previous one: what a lookup may match. */
  macs(purpose: string, value: string): string[];
}

interface Key {
  id: string;
  enc: Buffer;
  mac: Buffer;
}

function deriveKey(secret: Buffer): Key {
  if (secret.length !== 32) throw new Error('secret must be 32 bytes');
  const enc = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'twofold aes-256-gcm v1', 32));
  const mac = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'twofold hmac-sha256 v1', 32));
  const id = createHash('sha256').update(enc).digest('base64url').slice(0, 8);
  return { id, enc, mac };
}

function macWith(k: Key, purpose: string, value: string): string {
  return createHmac('sha256', k.mac).update(purpose).update('\u0000').update(value).digest('base64url');
}

export class DecryptError extends Error {
  override name = 'DecryptError';
}

/** `previous` keys only decrypt; new data is always sealed with `current`. */
export function createSecretBox(current: Buffer, previous: Buffer[] = []): SecretBox {
  const key = deriveKey(current);
  const byId = new Map<string, Key>([[key.id, key]]);
  for (const old of previous) {
    const k = deriveKey(old);
    if (!byId.has(k.id)) byId.set(k.id, k);
  }
  return {
    keyId: key.id,
    encrypt(plaintext, context) {
      // A random 96-bit nonce per message, never drawn twice (core/random.ts).
      const nonce = cryptoRandom.bytes(12);
      const iv = Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength);
      const cipher = createCipheriv('aes-256-gcm', key.enc, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `v1.${key.id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    decrypt(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== 'v1') throw new DecryptError('unknown ciphertext format');
      const k = byId.get(parts[1]!);
      if (!k) throw new DecryptError(`no key with id ${parts[1]}: was TWOFOLD_SECRET changed?`);
      const iv = Buffer.from(parts[2]!, 'base64url');
      const body = Buffer.from(parts[3]!, 'base64url');
      if (iv.length !== 12 || body.length < 16) throw new DecryptError('truncated ciphertext');
      try {
        const decipher = createDecipheriv('aes-256-gcm', k.enc, iv);
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new DecryptError('ciphertext does not authenticate');
      }
    },
    mac(purpose, value) {
      return macWith(key, purpose, value);
    },
    macs(purpose, value) {
      return [...byId.values()].map((k) => macWith(k, purpose, value));
    },
  };
}
