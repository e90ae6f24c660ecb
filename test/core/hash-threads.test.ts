import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { createHashThreads, HASH_THREAD_NICE, HashThreadError, hashThreadsSupported } from '../../src/core/hash-threads.js';
import { hashLimiter, hashPassword, useHashThreads, verifyPassword } from '../../src/core/password.js';

// Cheap parameters: these tests are about where hashes run, not their cost.
const FAST = { algorithm: 2 as Algorithm, memoryCost: 1024, timeCost: 1, parallelism: 1 };
const skip = hashThreadsSupported() ? false : 'hashing threads lower their own priority on Linux only';

test('a hashing thread hashes and verifies as the thread pool does', { skip }, async () => {
  const threads = createHashThreads();
  try {
    const onThread = await threads.hash('correct horse battery', FAST);
    assert.match(onThread, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    assert.equal(await verify(onThread, 'correct horse battery'), true, 'the pool accepts what a thread hashed');
    const onPool = await hash('correct horse battery', FAST);
    assert.equal(await threads.verify(onPool, 'correct horse battery'), true, 'a thread accepts what the pool hashed');
    assert.equal(await threads.verify(onPool, 'correct horse batterY'), false);
    // argon2's own refusal comes back as an error, not as a failed thread.
    const refused = await threads.verify('$argon2id$not-a-hash', 'x').then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(refused instanceof Error && !(refused instanceof HashThreadError), 'a malformed hash is an argon2 error');
    assert.equal(threads.size, 1, 'one request at a time reuses one thread');
  } finally {
    await threads.close();
  }
  assert.equal(threads.size, 0);
});

test('hashing threads run below the event loop: a nice value HASH_THREAD_NICE above the process, at most 19', { skip }, async () => {
  assert.ok(HASH_THREAD_NICE > 0);
  const threads = createHashThreads();
  try {
    assert.equal(await threads.threadNice(), Math.min(19, getPriority(0) + HASH_THREAD_NICE));
  } finally {
    await threads.close();
  }
  const gentle = createHashThreads({ nice: 2 });
  try {
    assert.equal(await gentle.threadNice(), Math.min(19, getPriority(0) + 2));
    assert.equal(getPriority(0), getPriority(), 'the event loop keeps its priority');
  } finally {
    await gentle.close();
  }
});

test('hashes asked for at once run on as many threads; an idle thread ends', { skip }, async () => {
  const threads = createHashThreads({ idleMs: 0 });
  const passwords = ['one password', 'two password', 'three password'];
  const hashes = await Promise.all(passwords.map((p) => threads.hash(p, FAST)));
  assert.equal(new Set(hashes).size, 3);
  for (const [i, h] of hashes.entries()) assert.equal(await verify(h, passwords[i]!), true);
  // With no idle time allowed, each thread ends once its work is done.
  for (let i = 0; threads.size > 0 && i < 200; i++) await new Promise((r) => setImmediate(r));
  assert.equal(threads.size, 0, 'no thread is kept without work');
  assert.equal(await threads.verify(hashes[0]!, 'one password'), true, 'the next request starts a thread again');
  await threads.close();
});

test('a thread that ends under a request fails it as a thread error; the password functions then use the pool', { skip }, async () => {
  const threads = createHashThreads();
  const slow = threads.hash('a password', { ...FAST, memoryCost: 64 * 1024, timeCost: 4 });
  const failed = assert.rejects(slow, HashThreadError);
  await threads.close();
  await failed;

  const inUse = useHashThreads(true);
  assert.ok(inUse);
  try {
    const h = await hashPassword('an account password');
    const pending = verifyPassword(h, 'an account password');
    await inUse.close();
    assert.equal(await pending, true, 'answered on the pool once its thread was gone');
    assert.equal(await verifyPassword(h, 'another password'), false);
    assert.equal(hashLimiter().active, 0);
  } finally {
    useHashThreads(true);
  }
});

test('a process that only waits for a hash is not left to exit; an idle thread does not hold it open', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-hash-threads-'));
  const script = join(dir, 'hash.mts');
  const password = resolve(import.meta.dirname, '../../src/core/password.ts');
  writeFileSync(script, `import { hashPassword } from ${JSON.stringify(password)};\nconsole.log((await hashPassword('a password for the command line')).slice(0, 9));\n`);
  // Killed at 20 s, before the idle thread would retire (30 s): a status means it ended by itself.
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, 'the process ended without waiting for its idle thread to retire');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '$argon2id');
});
