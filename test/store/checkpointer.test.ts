import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { openSqlite } from '../../src/store/db.js';

/**
 * What the WAL index (the -shm file) says: the last frame in the WAL and how many of its frames a
 * checkpoint has copied into the database file (SQLite's WalIndexHdr.mxFrame and
 * WalCkptInfo.nBackfill, in the machine's byte order).
 */
function walState(path: string): { mxFrame: number; nBackfill: number } {
  const fd = openSync(`${path}-shm`, 'r');
  try {
    const head = Buffer.alloc(136);
    readSync(fd, head, 0, head.length, 0);
    const u32 = (at: number) => (endianness() === 'LE' ? head.readUInt32LE(at) : head.readUInt32BE(at));
    return { mxFrame: u32(16), nBackfill: u32(96) };
  } finally {
    closeSync(fd);
  }
}

async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('background WAL checkpoints (SQLite)', () => {
  test('a worker copies committed pages into the database while the serving connection keeps writing; close stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twofold-ckpt-'));
    try {
      const path = join(dir, 'db.sqlite');
      const store = openSqlite(path, { backgroundCheckpoints: true });
      // The serving connection's own automatic checkpoint waits for thousands of pages: what is
      // written here (far fewer) is copied back only by the worker.
      const pages = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(store.db);
      assert.ok(pages.rows[0]!.wal_autocheckpoint >= 4000);
      await sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`.execute(store.db);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 20; i++) await sql`INSERT INTO t (v) VALUES (${'x'.repeat(2000)})`.execute(store.db);
        const written = walState(path).mxFrame;
        assert.ok(written > 0);
        await until('the WAL is checkpointed', () => {
          const s = walState(path);
          // Checkpointed up to what was written; or all of it and the WAL since restarted.
          return s.nBackfill >= written || (s.nBackfill === s.mxFrame && s.mxFrame < written);
        });
      }
      const count = await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(store.db);
      assert.equal(count.rows[0]!.n, 60);
      await store.close();
      // Closed: nothing holds the file (a new connection checkpoints and removes the WAL on close).
      const again = openSqlite(path);
      assert.equal((await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(again.db)).rows[0]!.n, 60);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without it, the same writes stay in the WAL (what the test above relies on)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twofold-ckpt-'));
    try {
      const path = join(dir, 'db.sqlite');
      const store = openSqlite(path);
      await sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`.execute(store.db);
      for (let i = 0; i < 20; i++) await sql`INSERT INTO t (v) VALUES (${'x'.repeat(2000)})`.execute(store.db);
      await new Promise((r) => setTimeout(r, 300));
      const s = walState(path);
      assert.ok(s.mxFrame > 0);
      assert.equal(s.nBackfill, 0);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
