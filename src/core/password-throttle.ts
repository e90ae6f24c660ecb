/**
 * SPEC §3 password guessing per account: consecutive wrong passwords are counted per submitted
 * address (known or not), and past a free budget each further attempt waits, 1 minute doubling up
 * to 1 hour. A browser that has signed in to the account before has a smaller budget of its own, so
 * whoever guesses at an address cannot lock its owner out.
 */
export const ADDRESS_FREE_FAILURES = 10;
export const DEVICE_FREE_FAILURES = 5;
export const BASE_WAIT_MS = 60_000;
export const MAX_WAIT_MS = 3_600_000;

/** What is counted: the address typed in, or one recognised browser's attempts at its account. */
export type ThrottleScope = 'address' | 'device';

export const FREE_FAILURES: Record<ThrottleScope, number> = { address: ADDRESS_FREE_FAILURES, device: DEVICE_FREE_FAILURES };

/** The wait after `failures` consecutive failures: none within the budget, then 1 min, 2, 4 … 60. */
export function waitMs(failures: number, free: number): number {
  if (!(failures >= free)) return 0;
  const doublings = Math.min(Math.floor(failures) - free, 30);
  return Math.min(BASE_WAIT_MS * 2 ** doublings, MAX_WAIT_MS);
}

/** Seconds for Retry-After (at least 1, rounded up so that waiting that long is always enough). */
export function retryAfterSeconds(failures: number, lastFailureAt: number, free: number, now: number): number {
  const until = lastFailureAt + waitMs(failures, free);
  return until <= now ? 0 : Math.max(1, Math.ceil((until - now) / 1000));
}

/** How a typed address is counted: the normalised address, or the trimmed lower-cased text when it is not one. */
export function addressForThrottle(normalized: string | null, typed: string): string {
  return normalized ?? typed.trim().toLowerCase().slice(0, 320);
}
