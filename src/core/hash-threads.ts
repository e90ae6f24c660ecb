import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Options } from '@node-rs/argon2';

/**
 * argon2 on worker threads of lower CPU priority than the event loop.
 *
 * On libuv's thread pool a hash competes for the cores as an equal of the event loop, so while
 * logins run, every session check and forward-auth decision waits its turn behind 19 MiB of
 * argon2. Here each hash runs synchronously on a worker thread that lowered its own priority
 * (a nice value is per thread on Linux): when the cores are all busy the scheduler favours the
 * event loop, and when they are not, hashing takes what is free at full speed. How many hashes run
 * at once stays the hashing limiter's business (core/password.ts); threads are made for what it
 * lets through and end after a while without work, so an idle server keeps none.
 *
 * Elsewhere (another OS, or a thread that cannot start) hashing stays on libuv's pool, as before:
 * setpriority on other systems applies to the whole process.
 */

/**
 * How far below the event loop a hashing thread runs. On a contended core, nice 5 gives it about a
 * third of the event loop's share (weights 335 and 1024): session checks keep most of the core and
 * logins still move. Measured with the server pinned to one core and a login burst beside 50
 * connections of session checks: nice 0 (libuv's pool) left the session check 26–84% of its idle
 * rate, nice 5 81–108% with logins at 7–10/s, nice 10 126–133% but logins at 3/s.
 */
export const HASH_THREAD_NICE = 5;
/** A thread left without work this long ends; the next hash starts one again (tens of milliseconds). */
export const HASH_THREAD_IDLE_MS = 30_000;

export interface HashThreads {
  hash(password: string, options: Options): Promise<string>;
  verify(hashed: string, password: string): Promise<boolean>;
  /** The nice value a hashing thread runs at, as it reads it from /proc (for tests and diagnostics). */
  threadNice(): Promise<number>;
  /** Threads alive now. */
  readonly size: number;
  close(): Promise<void>;
}

/** The thread, not argon2, failed: it could not start, or ended. Hashing can go on elsewhere. */
export class HashThreadError extends Error {}

type Request = { op: 'hash'; password: string; options: Options } | { op: 'verify'; hashed: string; password: string } | { op: 'nice' };
type Reply = { ok: true; value: string | boolean | number } | { ok: false; message: string };

// Plain CommonJS run with eval, as the checkpointer is (store/checkpointer.ts): the bundle and the
// TypeScript sources start it the same way. The argon2 binding comes by its resolved path.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { getPriority, setPriority } = require('node:os');
const { readFileSync } = require('node:fs');
const argon2 = require(workerData.argon2);
// pid 0: this thread alone on Linux, not the process. Relative to what the process runs at, so a
// service started with nice keeps its hashing below its event loop; never more than 19.
try {
  setPriority(0, Math.min(19, getPriority(0) + workerData.nice));
} catch {
  // Left at the process's priority: as fast as the pool, only not yielding.
}
const niceOfThisThread = () => Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[16]);
parentPort.on('message', (r) => {
  let reply;
  try {
    const value = r.op === 'hash' ? argon2.hashSync(r.password, r.options) : r.op === 'verify' ? argon2.verifySync(r.hashed, r.password) : niceOfThisThread();
    reply = { ok: true, value };
  } catch (err) {
    reply = { ok: false, message: String((err && err.message) || err) };
  }
  parentPort.postMessage(reply);
});
`;

interface Thread {
  worker: Worker;
  /** The answer awaited now; a thread takes one request at a time. */
  pending: { resolve(r: Reply): void; reject(err: Error): void } | null;
  idleTimer: NodeJS.Timeout | null;
}

const argon2Path = createRequire(import.meta.url).resolve('@node-rs/argon2');

/** Whether hashing threads can lower their own priority here (per-thread nice values: Linux). */
export const hashThreadsSupported = (): boolean => process.platform === 'linux';

export function createHashThreads(opts: { nice?: number; idleMs?: number } = {}): HashThreads {
  const nice = opts.nice ?? HASH_THREAD_NICE;
  const idleMs = opts.idleMs ?? HASH_THREAD_IDLE_MS;
  const idle: Thread[] = [];
  const all = new Set<Thread>();

  const retire = (t: Thread, err: Error) => {
    if (!all.delete(t)) return;
    const i = idle.indexOf(t);
    if (i >= 0) idle.splice(i, 1);
    if (t.idleTimer) clearTimeout(t.idleTimer);
    const p = t.pending;
    t.pending = null;
    p?.reject(err);
  };

  const start = (): Thread => {
    const worker = new Worker(SOURCE, { eval: true, workerData: { argon2: argon2Path, nice } });
    const t: Thread = { worker, pending: null, idleTimer: null };
    all.add(t);
    worker.on('message', (reply: Reply) => {
      const p = t.pending;
      t.pending = null;
      p?.resolve(reply);
    });
    worker.on('error', (err) => retire(t, new HashThreadError(`a hashing thread failed: ${err instanceof Error ? err.message : String(err)}`)));
    worker.on('exit', (code) => retire(t, new HashThreadError(`a hashing thread ended (exit code ${code})`)));
    return t;
  };

  const run = async (request: Request): Promise<Reply> => {
    const t = idle.pop() ?? start();
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = null;
    // Held while it works, so that a command that only waits for a hash (the CLI) is not left to exit.
    t.worker.ref();
    try {
      return await new Promise<Reply>((resolve, reject) => {
        t.pending = { resolve, reject };
        t.worker.postMessage(request);
      });
    } finally {
      if (all.has(t)) {
        t.worker.unref();
        idle.push(t);
        t.idleTimer = setTimeout(() => {
          retire(t, new HashThreadError('retired'));
          void t.worker.terminate();
        }, idleMs).unref();
      }
    }
  };

  const value = async (request: Request): Promise<string | boolean | number> => {
    const reply = await run(request);
    if (!reply.ok) throw new Error(reply.message);
    return reply.value;
  };

  return {
    hash: async (password, options) => String(await value({ op: 'hash', password, options })),
    verify: async (hashed, password) => (await value({ op: 'verify', hashed, password })) === true,
    threadNice: async () => Number(await value({ op: 'nice' })),
    get size() {
      return all.size;
    },
    close: async () => {
      const threads = [...all];
      for (const t of threads) retire(t, new HashThreadError('hashing threads closed'));
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
