/**
 * At most `limit` tasks run at once; the others wait in arrival order. Used to keep password
 * hashing (CPU-bound, on libuv's thread pool) from taking every core: logins then queue for a
 * hashing slot while session checks keep a core for themselves.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly limit: number;
  /** Tasks running now. */
  readonly active: number;
  /** The most that ever ran at once (for tests and metrics). */
  readonly peak: number;
}

export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a limiter needs a positive integer, got ${limit}`);
  let active = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    const next = waiting.shift();
    if (next) next();
  };
  return {
    limit,
    get active() {
      return active;
    },
    get peak() {
      return peak;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      if (active > peak) peak = active;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
