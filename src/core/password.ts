import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { createHashThreads, HashThreadError, hashThreadsSupported, type HashThreads } from './hash-threads.js';
import { createLimiter, type Limiter } from './limiter.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** OWASP's argon2id minimum: m = 19 MiB, t = 2, p = 1. */
// 2 is Algorithm.Argon2id; the enum is a const enum that isolated modules cannot read.
const ARGON2_OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 };

const COMMON = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.toLowerCase()),
);

export type PasswordProblem =
  | { code: 'password_too_short'; message: string }
  | { code: 'password_too_long'; message: string }
  | { code: 'password_too_common'; message: string };

/** Checks a new password against the policy; null when it is acceptable. */
export function passwordProblem(password: string): PasswordProblem | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return { code: 'password_too_short', message: `Use at least ${PASSWORD_MIN} characters.` };
  if (length > PASSWORD_MAX) return { code: 'password_too_long', message: `Use at most ${PASSWORD_MAX} characters.` };
  if (COMMON.has(password.toLowerCase())) {
    return { code: 'password_too_common', message: 'This password is one of the most common ones and is easy to guess. Choose another.' };
  }
  return null;
}

export function commonPasswordCount(): number {
  return COMMON.size;
}

/** One core is left to the event loop: a burst of logins must not starve session checks. */
export function defaultHashConcurrency(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

let hashing: Limiter = createLimiter(defaultHashConcurrency());

/**
 * How many argon2 computations may run at once in this process (TWOFOLD_HASH_CONCURRENCY). Set once
 * at start, before any hashing; every hash and verify (including the decoy) goes through it.
 */
export function setHashConcurrency(limit: number): void {
  if (limit !== hashing.limit) hashing = createLimiter(limit);
}

/** The hashing limiter now in use: its limit, what runs, and the most that ever ran at once. */
export function hashLimiter(): Pick<Limiter, 'limit' | 'active' | 'peak'> {
  return hashing;
}

/** Proof that the caller holds a hashing slot (inHashSlot); hashes and verifies given it take no other. */
export interface HashSlot {
  readonly held: true;
}
const SLOT: HashSlot = Object.freeze({ held: true });

/**
 * Runs `task` holding one hashing slot, which it passes on to the hashes and verifies it runs. A
 * login runs its whole password check (count the attempt, verify, clear the count) in one slot, so
 * attempts counted but not yet checked never outnumber the hashes running, however long the queue.
 * (An explicit slot, not AsyncLocalStorage: on Node 20 an active one hooks every promise of the
 * process, the session check's too.)
 */
export function inHashSlot<T>(task: (slot: HashSlot) => Promise<T>): Promise<T> {
  return hashing.run(() => task(SLOT));
}

const holding = <T>(slot: HashSlot | undefined, task: () => Promise<T>): Promise<T> => (slot === SLOT ? task() : hashing.run(task));

/** Hashing threads below the event loop's priority (core/hash-threads.ts); null: libuv's pool. */
let threads: HashThreads | null | undefined;
const hashThreads = (): HashThreads | null => (threads === undefined ? (threads = hashThreadsSupported() ? createHashThreads() : null) : threads);

/**
 * Where hashes run: on the hashing threads (the default where supported), or on libuv's pool.
 * Returns the threads in use, for tests.
 */
export function useHashThreads(on: boolean): HashThreads | null {
  const before = threads;
  threads = on && hashThreadsSupported() ? (before ?? createHashThreads()) : null;
  if (before && before !== threads) void before.close();
  return threads;
}

/** On a hashing thread; if one cannot run, on libuv's pool from then on (the answer is the same). */
async function onThread<T>(threaded: (t: HashThreads) => Promise<T>, pooled: () => Promise<T>): Promise<T> {
  const t = hashThreads();
  if (t) {
    try {
      return await threaded(t);
    } catch (err) {
      if (!(err instanceof HashThreadError)) throw err;
      if (threads === t) threads = null;
    }
  }
  return pooled();
}

/** argon2id via @node-rs/argon2, off the event loop: on a hashing thread, else on libuv's pool. */
export function hashPassword(password: string, slot?: HashSlot): Promise<string> {
  return holding(slot, () =>
    onThread(
      (t) => t.hash(password, ARGON2_OPTIONS),
      () => hash(password, ARGON2_OPTIONS),
    ),
  );
}

export async function verifyPassword(passwordHash: string, password: string, slot?: HashSlot): Promise<boolean> {
  try {
    return await holding(slot, () =>
      onThread(
        (t) => t.verify(passwordHash, password),
        () => verify(passwordHash, password),
      ),
    );
  } catch {
    return false;
  }
}

/**
 * A verifier for "no such account" that costs what a real check costs, so the answer's
 * timing does not tell which emails have accounts. The decoy hash is made once at start.
 */
export function makeDecoyVerifier(): (password: string, slot?: HashSlot) => Promise<false> {
  // Hashed on libuv's thread pool while the service starts, not before it listens (nothing else runs
  // then, and no hashing thread is started before a login needs one); a check that comes sooner
  // waits for it (and then costs the hash it was to imitate).
  const decoy = hashing.run(() => hash('decoy password that matches nothing', ARGON2_OPTIONS));
  decoy.catch(() => {});
  return async (password: string, slot?: HashSlot) => {
    await verifyPassword(await decoy, password + '\u0000', slot);
    return false;
  };
}
