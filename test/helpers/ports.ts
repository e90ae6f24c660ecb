import { createServer } from 'node:net';

/** A port that was free a moment ago (the kernel picks it; the listener is closed again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const addr = probe.address();
      if (!addr || typeof addr === 'string') return reject(new Error('no port'));
      probe.close(() => resolve(addr.port));
    });
  });
}
