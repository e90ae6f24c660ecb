import type { Config } from '../config.js';
import { buildServer } from '../http/server.js';
import { reloadAccessRules } from '../service/authz.js';
import { buildContext } from '../service/build-context.js';
import { openStore } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { deleteExpiredRows } from '../store/housekeeping.js';
import { deleteOldMailRows, startMailDelivery } from '../service/mail/delivery.js';
import type { MailWorker } from '../service/mail/worker.js';
import { sendDueRecoveryNotices } from '../service/account-recovery.js';

const HOUSEKEEPING_MS = 10 * 60_000;
const SHUTDOWN_GRACE_MS = 8_000;
const RECOVERY_NOTICES_MS = 15_000;

/**
 * Migrates, listens, and on SIGTERM/SIGINT stops accepting, closes idle connections, lets in-flight
 * requests finish (answered with `Connection: close`) and then closes the database.
 */
export async function serve(config: Config): Promise<void> {
  const store = openStore(config.databaseUrl, { backgroundCheckpoints: true });
  await migrateToLatest(store);
  const ctx = await buildContext(config, store);
  const app = await buildServer(ctx);
  app.addHook('onClose', async () => {
    await store.close();
  });

  const timer = setInterval(() => {
    deleteExpiredRows(ctx.db, ctx.clock.now(), ctx.policy).catch((err) => app.log.warn({ err }, 'housekeeping failed'));
    deleteOldMailRows(ctx).catch((err) => app.log.warn({ err }, 'mail housekeeping failed'));
  }, HOUSEKEEPING_MS);
  timer.unref();
  // Recovery notices are due at moments a person waits for (the end of a wait as short as 20 s in a
  // demo), so they are looked for more often than rows are cleaned; every node looks, one sends.
  const recoveryTimer = setInterval(() => {
    sendDueRecoveryNotices(ctx).catch((err) => app.log.warn({ err }, 'recovery notices failed'));
  }, RECOVERY_NOTICES_MS);
  recoveryTimer.unref();

  let mail: MailWorker | undefined;
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    clearInterval(timer);
    clearInterval(recoveryTimer);
    app.log.info({ signal }, 'shutting down');
    // A request that never finishes (a client that stops sending its body) must not hold the
    // process past what an orchestrator waits before SIGKILL (commonly 10 s).
    setTimeout(() => {
      app.log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'requests still open at the shutdown deadline; closing them');
      app.server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS).unref();
    // A send under way may finish (or its message goes back to the queue) before the database closes.
    (mail ? mail.stop(5_000) : Promise.resolve())
      .catch((err) => app.log.warn({ err }, 'mail worker stop failed'))
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (err) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  // SIGHUP re-reads TWOFOLD_ACCESS_RULES; a bad file keeps the rules in force and says why.
  process.on('SIGHUP', () => {
    const r = reloadAccessRules(ctx);
    if (r.ok) app.log.info({ rules: r.rules }, 'access rules reloaded');
    else app.log.error({ reason: r.reason }, 'access rules not reloaded; the previous rules stay in force');
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  mail = startMailDelivery(ctx, { log: app.log });
  app.log.info({ publicUrl: config.publicUrl.href, database: store.dialect }, 'twofold ready');
}
