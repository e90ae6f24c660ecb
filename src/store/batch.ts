/*
 * Lookups by key that arrive in the same turn of the event loop, answered by one query.
 *
 * On PostgreSQL every query is a round trip: a message written to a socket, a backend woken to bind
 * and run it, an answer parsed. Under load the session check's own lookup is cheap next to that
 * (measured on 2 cores: a bare Fastify + pg primary-key read gave 7–9 k req/s one query per
 * request, 21–26 k when the reads of one turn went as one `= ANY` query). Requests whose bytes are
 * read in one poll phase each reach their lookup before the loop's check phase, so the batch is
 * sent from setImmediate: no timer, no added wait beyond the turn the request is already in.
 *
 * A batched read is never older than the request that asked for it: it is sent after the request
 * was made, so it sees every write committed before then.
 */

export interface Batcher<R> {
  /** The rows for `key` (none when nothing matched). */
  load(key: string): Promise<R[]>;
}

interface Waiting<R> {
  resolve(rows: R[]): void;
  reject(err: unknown): void;
}

/**
 * `run` gets distinct keys (at most `max`) and answers all their rows; `keyOf` says which key a row
 * belongs to. A batch that fills up is sent at once, so a burst becomes several queries in flight.
 */
export function createBatcher<R>(run: (keys: string[]) => Promise<R[]>, keyOf: (row: R) => string, max: number): Batcher<R> {
  let waiting = new Map<string, Waiting<R>[]>();
  let scheduled = false;

  const send = (batch: Map<string, Waiting<R>[]>) => {
    let answer: Promise<R[]>;
    // Sent from setImmediate: a throw there would be uncaught, so it fails the batch's lookups instead.
    try {
      answer = run([...batch.keys()]);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (rows) => {
        const byKey = new Map<string, R[]>();
        for (const row of rows) {
          const key = keyOf(row);
          const list = byKey.get(key);
          if (list) list.push(row);
          else byKey.set(key, [row]);
        }
        for (const [key, ws] of batch) {
          const found = byKey.get(key) ?? [];
          for (const w of ws) w.resolve(found);
        }
      },
      (err: unknown) => {
        for (const ws of batch.values()) for (const w of ws) w.reject(err);
      },
    );
  };

  const flush = () => {
    scheduled = false;
    if (waiting.size === 0) return;
    const batch = waiting;
    waiting = new Map();
    send(batch);
  };

  return {
    load(key) {
      return new Promise<R[]>((resolve, reject) => {
        const ws = waiting.get(key);
        if (ws) {
          ws.push({ resolve, reject });
          return;
        }
        waiting.set(key, [{ resolve, reject }]);
        if (waiting.size >= max) flush();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}

/** The query sizes a batch is padded to, so each size is one prepared statement: 1, 2, 4 … max. */
export function batchSize(n: number, max: number): number {
  let size = 1;
  while (size < n && size < max) size *= 2;
  return size;
}

/** `keys` (at most `max`) padded to their batchSize by repeating the first, which matches nothing new. */
export function padBatch(keys: string[], max: number): string[] {
  const n = batchSize(keys.length, max);
  return keys.length === n ? keys : [...keys, ...Array<string>(n - keys.length).fill(keys[0]!)];
}

/** One prepared query per batch size, built on first use: `make(n)` for n ids. */
export function perBatchSize<Q>(make: (n: number) => Q): (n: number) => Q {
  const made = new Map<number, Q>();
  return (n) => {
    let q = made.get(n);
    if (q === undefined) {
      q = make(n);
      made.set(n, q);
    }
    return q;
  };
}
