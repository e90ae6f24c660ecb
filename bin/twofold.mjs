#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ (built by `npm install` through `prepare`, `npm run build`,
// or here when dist/ is missing or older than the sources, so `npm install && npm start` is the
// whole setup). TWOFOLD_RUN_SOURCES=1 runs src/ through tsx instead, for development and tests.
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

if (process.env.TWOFOLD_RUN_SOURCES === '1') {
  const { register } = await import('tsx/esm/api');
  // The project's tsconfig (JSX for preact) wherever the command is run from.
  register({ tsconfig: join(root, 'tsconfig.json') });
  await import(pathToFileURL(join(root, 'src/cli/main.ts')).href);
} else {
  const stamp = join(root, 'dist', '.built');
  const src = join(root, 'src');
  // A packaged install may ship dist/ without src/: then dist/ is what there is.
  if (!existsSync(stamp) || (existsSync(src) && newestMtime(src) > statSync(stamp).mtimeMs)) {
    process.stderr.write('twofold: compiling the sources into dist/ (once)\n');
    const { build } = await import(pathToFileURL(join(root, 'scripts/build.mjs')).href);
    await build();
  }
  // Node 22.1 and later keep V8's compiled code between starts. The cache sits in dist/, owned by
  // whoever built it, not in a temporary directory others can write; where dist/ is read-only, or on
  // Node 20, nothing is cached.
  nodeModule.enableCompileCache?.(join(root, 'dist', '.compile-cache'));
  // dist/bundle/ is the same code in a few files, which loads faster; the plain tree runs when the
  // build made no bundle (esbuild not installed, or bundling failed).
  const bundled = join(root, 'dist/bundle/main.js');
  await import(pathToFileURL(existsSync(bundled) ? bundled : join(root, 'dist/cli/main.js')).href);
}
