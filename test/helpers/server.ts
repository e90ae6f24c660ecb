import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/http/schemas.js';
import { buildContext } from '../../src/service/build-context.js';
import type { Context } from '../../src/service/context.js';
import { Client } from './client.js';
import { createTestDatabase, type DbKind, type TestDatabase } from './databases.js';

export interface TestServer {
  url: string;
  app: App;
  ctx: Context;
  config: Config;
  database: TestDatabase;
  client(headers?: Record<string, string>): Client;
  close(): Promise<void>;
}

/**
 * A real server listening on an ephemeral port over a fresh database. `env` takes the same
 * variables as production; the clock can be a manual one for expiry tests.
 */
export async function startTestServer(kind: DbKind, opts: { env?: Record<string, string>; clock?: Clock } = {}): Promise<TestServer> {
  const database = await createTestDatabase(kind);
  const env = {
    TWOFOLD_SECRET: randomBytes(32).toString('base64'),
    DATABASE_URL: database.url,
    PORT: '0',
    TWOFOLD_AUTH_RATE_LIMIT: '100000',
    ...opts.env,
  };
  const config = loadConfig(env, process.cwd());
  const ctx = await buildContext(config, database.store, { clock: opts.clock ?? systemClock });
  const app = await buildServer(ctx, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${addr.port}`;
  return {
    url,
    app,
    ctx,
    config,
    database,
    client: (headers) => new Client(url, headers),
    async close() {
      await app.close();
      await database.drop();
    },
  };
}
