import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory served under /assets/. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

/** Where vendor files are served: /assets/vendor/<name>. */
export const VENDOR_PREFIX = 'vendor/';

const require = createRequire(import.meta.url);

/**
 * Third-party browser files served straight from node_modules (never copied into the repository),
 * so an `npm update` of the package is what the pages load. The name is the URL's last part.
 */
const VENDOR_SOURCES: Record<string, () => string> = {
  // The package exports only its module entry points; the UMD bundle sits beside them.
  // require.resolve('@simplewebauthn/browser') → <pkg>/script/index.js.
  'simplewebauthn-browser.js': () => join(dirname(dirname(require.resolve('@simplewebauthn/browser'))), 'dist', 'bundle', 'index.umd.min.js'),
};

export interface VendorFile {
  body: Buffer;
  /** Content hash, also the ETag. */
  version: string;
  type: string;
}

const vendorCache = new Map<string, VendorFile>();

function versionOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 10);
}

/** A vendor file by its served name (read once, then kept in memory), or undefined. */
export function vendorFile(name: string): VendorFile | undefined {
  if (!Object.hasOwn(VENDOR_SOURCES, name)) return undefined;
  let file = vendorCache.get(name);
  if (!file) {
    const body = readFileSync(VENDOR_SOURCES[name]!());
    file = { body, version: versionOf(body), type: 'text/javascript; charset=utf-8' };
    vendorCache.set(name, file);
  }
  return file;
}

/** Reads every vendor file now, so a missing package fails the start, not a page view. */
export function loadVendorFiles(): void {
  for (const name of Object.keys(VENDOR_SOURCES)) vendorFile(name);
}

const versions = new Map<string, string>();

/**
 * The URL of a file in public/ (or of a vendor file, `vendor/<name>`), with a content hash so a new
 * release is never served a stale stylesheet or script from a browser cache.
 */
export function assetUrl(file: string): string {
  if (file.startsWith(VENDOR_PREFIX)) {
    const vendor = vendorFile(file.slice(VENDOR_PREFIX.length));
    if (!vendor) throw new Error(`unknown vendor file ${file}`);
    return `/assets/${file}?v=${vendor.version}`;
  }
  let v = versions.get(file);
  if (v === undefined) {
    v = versionOf(readFileSync(PUBLIC_DIR + file));
    versions.set(file, v);
  }
  return `/assets/${file}?v=${v}`;
}
