import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchSize, createBatcher, padBatch, perBatchSize } from '../../src/store/batch.js';

interface Row {
  key: string;
  n: number;
}

/** A batcher whose query answers two rows per key except 'missing', and records each batch. */
function recording(max: number, fail = false) {
  const batches: string[][] = [];
  const b = createBatcher<Row>(
    async (keys) => {
      batches.push(keys);
      if (fail) throw new Error('database down');
      return keys.filter((k) => k !== 'missing').flatMap((key) => [{ key, n: 1 }, { key, n: 2 }]);
    },
    (row) => row.key,
    max,
  );
  return { b, batches };
}

test('lookups made in one turn share one query; each gets only its own rows', async () => {
  const { b, batches } = recording(64);
  const [x, y, missing, x2] = await Promise.all([b.load('x'), b.load('y'), b.load('missing'), b.load('x')]);
  assert.deepEqual(batches, [['x', 'y', 'missing']], 'one query, each key once');
  assert.deepEqual(x, [{ key: 'x', n: 1 }, { key: 'x', n: 2 }]);
  assert.deepEqual(x2, x);
  assert.deepEqual(y.map((r) => r.key), ['y', 'y']);
  assert.deepEqual(missing, []);
});

test('lookups in later turns go in later queries, never waiting on a timer', async () => {
  const { b, batches } = recording(64);
  await b.load('a');
  await b.load('b');
  assert.deepEqual(batches, [['a'], ['b']]);
});

test('a full batch is sent at once; the rest follows in the same turn', async () => {
  const { b, batches } = recording(4);
  const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
  const rows = await Promise.all(keys.map((k) => b.load(k)));
  assert.deepEqual(batches.map((k) => k.length), [4, 4, 2]);
  assert.deepEqual(batches.flat(), keys);
  rows.forEach((r, i) => assert.deepEqual(r.map((x) => x.key), [keys[i], keys[i]]));
});

test('a failed query fails every lookup of its batch, and the next batch runs anew', async () => {
  const { b, batches } = recording(64, true);
  const results = await Promise.allSettled([b.load('a'), b.load('b'), b.load('a')]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  await assert.rejects(b.load('c'), /database down/);
  assert.deepEqual(batches, [['a', 'b'], ['c']]);
});

test('batch sizes are powers of two up to the most; a batch is padded with its first key; each size is made once', () => {
  assert.deepEqual([1, 2, 3, 5, 8, 9, 33, 64, 65].map((n) => batchSize(n, 64)), [1, 2, 4, 8, 8, 16, 64, 64, 64]);
  assert.deepEqual(padBatch(['a', 'b', 'c'], 32), ['a', 'b', 'c', 'a']);
  assert.deepEqual(padBatch(['a', 'b'], 32), ['a', 'b']);
  let made = 0;
  const q = perBatchSize((n) => ({ n, made: ++made }));
  assert.equal(q(4), q(4));
  assert.notEqual(q(4), q(8));
  assert.equal(made, 2);
});

test('a query that throws before it is sent fails its lookups, not the process', async () => {
  const b = createBatcher<Row>(
    () => {
      throw new Error('cannot build the query');
    },
    (row) => row.key,
    64,
  );
  await assert.rejects(Promise.all([b.load('a'), b.load('b')]), /cannot build the query/);
});
