const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses "90s", "15m", "1h", "7d" or a bare number of seconds into milliseconds. Zero is refused
 * unless `allowZero` (a grace period of 0 means "none"; a session lifetime of 0 means nothing).
 */
export function parseDuration(text: string, opts: { allowZero?: boolean } = {}): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/i.exec(text);
  if (!m) throw new Error(`not a duration: "${text}" (use e.g. 30m, 1h, 7d)`);
  const value = Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]!;
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !opts.allowZero)) throw new Error(`duration must be positive: "${text}"`);
  return Math.round(value);
}
