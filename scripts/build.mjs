// Compiles src/ into dist/ (tsc) and copies every non-TypeScript file beside it (word lists, JSON
// data, templates), so dist/ mirrors src/ at the same depth and a path resolved from
// import.meta.url (like ../../../public/) finds the same file from either tree.
// Then it bundles that tree, with the pure-JavaScript packages it imports, into dist/bundle/, which
// is what bin/twofold.mjs runs: loading some 1,100 module files (Kysely, TypeBox, Fastify, ajv…)
// took about half of the start time; one bundle of a few files starts in half the time.
// The new tree is built in a temporary directory and swapped in, so a process starting meanwhile
// never runs a half-written dist/.
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const tmp = join(root, `dist.build-${process.pid}`);

/**
 * Packages the bundle leaves to Node.js to load from node_modules, each for a reason:
 * native addons (better-sqlite3, @node-rs/argon2); pino, whose transports start worker threads from
 * its own files; pg, which may require the optional pg-native; and the heavy ones Twofold already
 * loads only when first needed (OpenID provider, mail, WebAuthn, Redis, metrics, QR codes), which
 * would otherwise be parsed into the bundle's chunks for nothing.
 */
export const EXTERNAL = [
  'better-sqlite3',
  '@node-rs/argon2',
  'pino',
  'pg',
  'oidc-provider',
  'nodemailer',
  '@simplewebauthn/server',
  'ioredis',
  'prom-client',
  'qrcode',
];

function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) copyAssets(p);
    else if (!/\.(ts|tsx|mts|cts)$/.test(name)) {
      const to = join(tmp, relative(src, p));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(p, to);
    }
  }
}

const slash = (p) => p.split('\\').join('/');

/**
 * Bundles tree/cli/main.js into tree/bundle/. Every chunk lands in that one directory, so a path
 * relative to it is right from any chunk. A module bundled keeps its own location: import.meta.url
 * in Twofold's files, and __filename/__dirname in CommonJS packages (which an ES module bundle
 * does not define), become the URL of the file the code came from, relative to the chunk.
 * Does nothing when esbuild is not installed (a production install without devDependencies): the
 * unbundled tree then runs.
 */
async function bundle(tree) {
  let esbuild;
  try {
    esbuild = await import(pathToFileURL(createRequire(join(root, 'package.json')).resolve('esbuild')).href);
  } catch {
    return;
  }
  const outdir = join(tree, 'bundle');
  const fromOut = (file) => JSON.stringify(slash(relative(outdir, file)));
  const keepLocation = {
    name: 'keep-location',
    setup(b) {
      b.onLoad({ filter: /\.(c|m)?js$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        const own = !/[\\/]node_modules[\\/]/.test(args.path);
        if (own && text.includes('import.meta.url')) {
          return { contents: text.replaceAll('import.meta.url', `__twofoldUrl(${fromOut(args.path)})`), loader: 'js' };
        }
        if (!own && /\b__(dirname|filename)\b/.test(text)) {
          // Replaced where used, not declared on top, which would demote a leading 'use strict'.
          const contents = text
            .replace(/\b__filename\b/g, `__twofoldPath(${fromOut(args.path)})`)
            .replace(/\b__dirname\b/g, `__twofoldPath(${fromOut(dirname(args.path))})`);
          return { contents, loader: 'js' };
        }
        return undefined;
      });
    },
  };
  await esbuild.build({
    entryPoints: [join(tree, 'cli/main.js')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    plugins: [keepLocation],
    logLevel: 'warning',
    // require() for the CommonJS packages inside an ES module, and the two helpers above.
    banner: {
      js: [
        "import { createRequire as __twofoldRequire } from 'node:module';",
        "import { fileURLToPath as __twofoldFile } from 'node:url';",
        'const require = __twofoldRequire(import.meta.url);',
        'const __twofoldUrl = (p) => new URL(p, import.meta.url).href;',
        'const __twofoldPath = (p) => __twofoldFile(new URL(p, import.meta.url));',
      ].join(' '),
    },
  });
}

export async function build() {
  rmSync(tmp, { recursive: true, force: true });
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error('twofold: the TypeScript build failed');
  }
  copyAssets(src);
  try {
    await bundle(tmp);
  } catch (err) {
    // The bundle only makes start faster: without it the compiled tree runs, and does the same.
    rmSync(join(tmp, 'bundle'), { recursive: true, force: true });
    process.stderr.write(`twofold: bundling failed, the unbundled build will run (${err instanceof Error ? err.message.split('\n')[0] : err})\n`);
  }
  // The stamp's time is what bin/twofold.mjs compares with the sources.
  writeFileSync(join(tmp, '.built'), new Date().toISOString() + '\n');
  const old = join(root, `dist.old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(tmp, dist);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await build();
