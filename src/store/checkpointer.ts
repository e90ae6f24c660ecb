import { Worker } from 'node:worker_threads';

/**
 * SQLite in WAL mode appends each commit to the -wal file; a checkpoint copies those pages back
 * into the database file and, under synchronous=NORMAL, fsyncs both. Left to the serving
 * connection (wal_autocheckpoint), that happens inside whichever commit crosses 1,000 pages: on a
 * busy server, every hundred or so logins one of them stalls the event loop for 10-40 ms of fsync
 * (measured on the TOTP step: the costliest 1% of commits held 40% of all commit time).
 *
 * Here a worker thread with its own connection runs PASSIVE checkpoints, which never block the
 * serving connection's reads or writes, every `intervalMs`. It is an optimisation, not the only
 * thing that bounds the WAL: the serving connection keeps an automatic checkpoint, set higher
 * (SERVING_AUTOCHECKPOINT_PAGES), which takes over if this worker stops or falls behind.
 */
export const SERVING_AUTOCHECKPOINT_PAGES = 8_000;

export interface Checkpointer {
  stop(): Promise<void>;
}

// Plain CommonJS run with eval: the bundle and the TypeScript sources start it the same way, with
// no file of its own to find. The driver comes by its resolved path.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // Busy or briefly unavailable: the next tick, or the serving connection, does it.
  }
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(path: string, driver: string, intervalMs = 100): Checkpointer {
  const worker = new Worker(SOURCE, { eval: true, workerData: { path, driver, intervalMs } });
  // Never what keeps the process alive; a checkpoint cut short by exit is safe (SQLite redoes it).
  worker.unref();
  // An error in the worker (the file removed, say) leaves checkpoints to the serving connection.
  worker.on('error', () => {});
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop: async () => {
      // Held until it has closed its connection, so a closing process waits for it.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
