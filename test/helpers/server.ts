import { randomBytes } from 'node:crypto';
import type { LogConfig } from 'kysely';
import { loadConfig, type Config } from '../../src/config.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/http/schemas.js';
import { buildContext } from '../../src/service/build-context.js';
import { openStore } from '../../src/store/db.js';
import type { Context } from '../../src/service/context.js';
import { startMailDelivery } from '../../src/service/mail/delivery.js';
import type { MailWorker, MailWorkerOptions } from '../../src/service/mail/worker.js';
import { Client } from './client.js';
import { createTestDatabase, type DbKind, type TestDatabase } from './databases.js';
import { freePort } from './ports.js';

export interface TestServer {
  url: string;
  /** PUBLIC_URL's origin: what a browser should open (http://localhost:<port> with `publicHost`). */
  publicUrl: string;
  app: App;
  ctx: Context;
  config: Config;
  database: TestDatabase;
  client(headers?: Record<string, string>): Client;
  /** The node's mail delivery worker, when started with `mail`. */
  mail: MailWorker | undefined;
  close(): Promise<void>;
}

/**
 * A real server listening on an ephemeral port over a fresh database. `env` takes the same
 * variables as production; the clock can be a manual one for expiry tests. With `publicHost`, the
 * port is picked before start and PUBLIC_URL is http://localhost:<port>, as a browser test needs
 * (pages redirect other host names to PUBLIC_URL; WebAuthn needs its host). `log` is Kysely's query
 * log on the server's database (to count the statements of a request).
 */
export async function startTestServer(
  kind: DbKind,
  opts: { env?: Record<string, string>; clock?: Clock; publicHost?: boolean; mail?: MailWorkerOptions; port?: number; log?: LogConfig } = {},
): Promise<TestServer> {
  const database = await createTestDatabase(kind, opts.log ? { log: opts.log } : {});
  // `port`: chosen by the caller, who needs it in PUBLIC_URL or in a proxy's configuration.
  const port = opts.port ?? (opts.publicHost ? await freePort() : 0);
  const env = {
    TWOFOLD_SECRET: randomBytes(32).toString('base64'),
    DATABASE_URL: database.url,
    PORT: String(port),
    TWOFOLD_AUTH_RATE_LIMIT: '100000',
    ...(opts.publicHost ? { PUBLIC_URL: `http://localhost:${port}` } : {}),
    ...opts.env,
  };
  return listen(loadConfig(env, process.cwd()), database, port, opts.clock, () => database.drop(), opts.mail);
}

async function listen(
  config: Config,
  database: TestDatabase,
  port: number,
  clock: Clock | undefined,
  cleanUp: () => Promise<void>,
  mailOpts?: MailWorkerOptions,
): Promise<TestServer> {
  const ctx = await buildContext(config, database.store, { clock: clock ?? systemClock });
  const app = await buildServer(ctx, { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${addr.port}`;
  // The OpenID provider makes the first signing keys right after start, in the background: wait for
  // it, so that tests comparing the database before and after a request see only what they caused.
  await fetch(`${url}/.well-known/openid-configuration`).then((r) => r.arrayBuffer());
  // Mail is delivered only where a test asks for it; elsewhere messages just wait in the outbox.
  const mail = mailOpts ? startMailDelivery(ctx, mailOpts) : undefined;
  return {
    mail,
    url,
    publicUrl: config.publicOrigin,
    app,
    ctx,
    config,
    database,
    client: (headers) => new Client(url, headers),
    async close() {
      await mail?.stop();
      await app.close();
      await cleanUp();
    },
  };
}

/**
 * Another node of the same deployment: its own process state and its own database connection(s),
 * the same database and TWOFOLD_SECRET as `first`. Close it before `first`, which drops the database.
 */
export async function startAnotherNode(first: TestServer, opts: { clock?: Clock; config?: Partial<Config>; mail?: MailWorkerOptions } = {}): Promise<TestServer> {
  const store = openStore(first.database.url);
  const config = { ...first.config, port: 0, ...opts.config };
  return listen(config, { ...first.database, store, drop: async () => {} }, 0, opts.clock, () => store.close(), opts.mail);
}
