import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Context } from '../service/context.js';
import { enableMetrics, metrics, registerMailOutboxCollector } from '../service/metrics.js';
import { countByState } from '../store/outbox.js';

/**
 * With TWOFOLD_METRICS_PORT set: every answer is timed by route template, and GET /metrics is
 * served on that port alone (never on the main one, which faces the internet). Without it nothing
 * is added: no hook, no listener, no prom-client.
 */
export async function installMetrics(app: FastifyInstance, ctx: Context): Promise<void> {
  const config: Pick<Config, 'metricsPort' | 'host'> = ctx.config;
  if (config.metricsPort === undefined) return;
  const endpoint = await enableMetrics();
  // The outbox is counted at each scrape (one grouped query), never on a request.
  registerMailOutboxCollector(() => countByState(ctx.db));

  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  let server: Server | undefined;
  app.addHook('onReady', async () => {
    server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      endpoint.render().then(
        (text) => res.writeHead(200, { 'content-type': endpoint.contentType, 'cache-control': 'no-store' }).end(text),
        (err: unknown) => {
          app.log.error({ err }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.metricsPort, config.host, () => resolve());
    });
    app.log.info({ port: config.metricsPort }, 'metrics at /metrics');
  });
  app.addHook('onClose', async () => {
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  });
}
