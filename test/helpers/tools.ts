import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/** Under TWOFOLD_TEST_STRICT=1 (CI) a missing tool fails the test instead of skipping it. */
export const STRICT = process.env.TWOFOLD_TEST_STRICT === '1';

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns true when the test may go on. Otherwise it skips with a message saying what to install,
 * or throws under STRICT.
 */
export function requireTool(t: TestContext, available: boolean, what: string): boolean {
  if (available) return true;
  if (STRICT) throw new Error(`${what} is required under TWOFOLD_TEST_STRICT=1`);
  t.skip(`${what} is not available`);
  return false;
}

/** requireTool for a command on the PATH, naming the Debian package that installs it. */
export function requireCommand(t: TestContext, command: string, debianPackage = command): boolean {
  return requireTool(t, hasCommand(command), `${command} (Debian package \`${debianPackage}\`)`);
}
