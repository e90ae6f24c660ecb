import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The package's bin, run the way `npx twofold` runs it. */
export const BIN = resolve(import.meta.dirname, '../../bin/twofold.mjs');

/**
 * A clean environment: nothing from the developer's shell (DATABASE_URL, TWOFOLD_*, PORT …) leaks
 * into the child, which sees only what the test gives it.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  // TWOFOLD_RUN_SOURCES: the CLI tests run the sources being tested, not a dist/ built earlier;
  // test/cli/build.test.ts runs the compiled build.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), TWOFOLD_RUN_SOURCES: '1', ...extra };
}

export function tempDir(prefix = 'twofold-cli-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], opts: { cwd: string; env?: Record<string, string> }): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: cleanEnv(opts.env), stdio: 'pipe' });
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcessWithoutNullStreams): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs `twofold <args>` to completion, with `input` on stdin. */
export async function runCli(args: string[], opts: { cwd: string; env?: Record<string, string>; input?: string; timeoutMs?: number }): Promise<RunResult> {
  const child = startCli(args, opts);
  const done = finished(child);
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}
