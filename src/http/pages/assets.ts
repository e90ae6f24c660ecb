import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The directory served under /assets/. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

const versions = new Map<string, string>();

/**
 * The URL of a file in public/, with a content hash so a new release is never served a stale
 * stylesheet or script from a browser cache.
 */
export function assetUrl(file: string): string {
  let v = versions.get(file);
  if (v === undefined) {
    v = createHash('sha256').update(readFileSync(PUBLIC_DIR + file)).digest('base64url').slice(0, 10);
    versions.set(file, v);
  }
  return `/assets/${file}?v=${v}`;
}
