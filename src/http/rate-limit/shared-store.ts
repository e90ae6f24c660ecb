import type { Redis } from 'ioredis';

type Callback = (err: Error | null, res: { current: number; ttl: number }) => void;

/** The store contract @fastify/rate-limit calls (see its store/LocalStore.js). */
export interface RateLimitStore {
  incr(key: string, cb: Callback, timeWindow: number, max: number): void;
  child(routeOptions: unknown): RateLimitStore;
}

// One INCR and the window's remaining time, atomically: the first hit of a window sets its expiry.
const INCR_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

/** A fixed-window count per key in this process: the fallback when Redis cannot answer. */
export class MemoryWindows {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  constructor(private readonly maxKeys = 10_000) {}

  incr(key: string, timeWindow: number, now = Date.now()): { current: number; ttl: number } {
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      if (!w && this.windows.size >= this.maxKeys) this.evict(now);
      w = { count: 0, endsAt: now + timeWindow };
      this.windows.set(key, w);
    }
    w.count++;
    return { current: w.count, ttl: w.endsAt - now };
  }

  /** Drops ended windows, and the oldest ones if that is not enough: memory stays bounded. */
  private evict(now: number): void {
    for (const [k, w] of this.windows) if (w.endsAt <= now) this.windows.delete(k);
    const excess = this.windows.size - Math.floor(this.maxKeys * 0.9);
    if (excess > 0) [...this.windows.keys()].slice(0, excess).forEach((k) => this.windows.delete(k));
  }
}

/**
 * The per-IP store for every password and code route: one bucket per client address shared by all
 * of them (child() hands back the same store, where the plugin's own stores make one per route).
 * With Redis the count is shared by every node; when Redis fails or is unreachable, this node counts
 * alone in memory (a per-node limit), never no limit at all.
 */
export function sharedRateLimitStore(opts: { redis?: Redis; prefix: string; onFallback?: (err: Error) => void }) {
  const memory = new MemoryWindows();
  const store: RateLimitStore = {
    incr(key, cb, timeWindow) {
      const fallback = (err: Error) => {
        opts.onFallback?.(err);
        cb(null, memory.incr(key, timeWindow));
      };
      const redis = opts.redis;
      if (!redis || redis.status !== 'ready') {
        if (redis) return fallback(new Error(`redis is ${redis.status}`));
        return cb(null, memory.incr(key, timeWindow));
      }
      redis.eval(INCR_SCRIPT, 1, opts.prefix + key, timeWindow).then(
        (res) => {
          const [current, ttl] = res as [number, number];
          cb(null, { current: Number(current), ttl: Number(ttl) });
        },
        (err: Error) => fallback(err),
      );
    },
    child: () => store,
  };
  return store;
}
