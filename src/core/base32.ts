/**
 * Encodes bytes 5 bits to a letter over a 32-letter alphabet, without padding. Each 5-bit group of
 * uniform random bytes is uniform over the alphabet, so there is no modulo bias.
 */
export function encodeBase32(bytes: Uint8Array, alphabet: string): string {
  if (alphabet.length !== 32) throw new Error('a base32 alphabet has 32 letters');
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(buffer >>> bits) & 31];
    }
    // Keep only the unread bits so the shift above never overflows 32 bits.
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/** Random bytes from a source that must give exactly what was asked for. */
export function exactBytes(bytes: Uint8Array, n: number): Uint8Array {
  if (bytes.length !== n) throw new Error('random source returned the wrong number of bytes');
  return bytes;
}
