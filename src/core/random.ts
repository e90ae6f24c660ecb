import { randomBytes, randomFillSync } from 'node:crypto';

/** Source of cryptographically secure random bytes; injectable for deterministic tests. */
export interface RandomSource {
  bytes(n: number): Uint8Array;
}

/**
 * The operating system's CSPRNG (through OpenSSL), drawn `size` bytes at a time. Each call into it
 * costs about the same whatever its size (measured on the 2-core VMs: 5.7 µs for 32 bytes, 9.1 µs
 * for 4 KiB), and a login draws three or four small values: its session token, the security-log
 * entry's id, the recognition cookie's nonce. Node's own crypto.randomUUID caches random data the
 * same way. Every byte is handed out once, as a copy in memory of its own, so no caller holds a
 * view onto bytes another caller gets, and is erased from the pool as it goes, so the pool never
 * holds a value already given.
 */
export function pooledRandom(size = 4096): RandomSource {
  const pool = Buffer.allocUnsafeSlow(size);
  let offset = size;
  return {
    bytes(n) {
      if (n > size) return randomBytes(n);
      if (offset + n > size) {
        randomFillSync(pool);
        offset = 0;
      }
      // Its own memory, not a slice of Node's shared buffer pool next to other values.
      const out = Buffer.allocUnsafeSlow(n);
      pool.copy(out, 0, offset, offset + n);
      pool.fill(0, offset, offset + n);
      offset += n;
      return out;
    },
  };
}

export const cryptoRandom: RandomSource = pooledRandom();

/** 256-bit URL-safe token, the form every bearer secret (session, trusted device) takes. */
export function randomToken(random: RandomSource): string {
  return Buffer.from(random.bytes(32)).toString('base64url');
}

/** Opaque public identifier for a row (not a secret). */
export function randomId(random: RandomSource): string {
  return Buffer.from(random.bytes(16)).toString('base64url');
}
