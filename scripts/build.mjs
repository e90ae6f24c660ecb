// Compiles src/ into dist/ (tsc) and copies every non-TypeScript file beside it (word lists, JSON
// data, templates), so dist/ mirrors src/ at the same depth and a path resolved from
// import.meta.url (like ../../../public/) finds the same file from either tree.
// The new tree is built in a temporary directory and swapped in, so a process starting meanwhile
// never runs a half-written dist/.
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const tmp = join(root, `dist.build-${process.pid}`);

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

export function build() {
  rmSync(tmp, { recursive: true, force: true });
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error('twofold: the TypeScript build failed');
  }
  copyAssets(src);
  // The stamp's time is what bin/twofold.mjs compares with the sources.
  writeFileSync(join(tmp, '.built'), new Date().toISOString() + '\n');
  const old = join(root, `dist.old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(tmp, dist);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) build();
