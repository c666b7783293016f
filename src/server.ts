// Runs contextd: opens and migrates the store, serves HTTP, and shuts down cleanly on SIGTERM/SIGINT
// (stop accepting, finish in-flight requests, commit pending writes, close the store).
import type { FastifyInstance } from 'fastify';
import { describeDatabase, type Config } from './config.js';
import { loggerOptions } from './logging.js';
import { VERSION } from './package-root.js';
import { BASE } from './http/schemas/common.js';
import { buildApp } from './http/app.js';
import { DEFAULT_RETRY } from './domain/webhooks.js';
import { partitionsOf } from './domain/tenancy.js';
import { openPartitionStores } from './store/open.js';

export interface RunningServer {
  app: FastifyInstance;
  address: string;
  stop: () => Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const stores = await openPartitionStores(config, partitionsOf(config.tenants));
  try {
    await stores.migrate();
  } catch (error) {
    await stores.close();
    throw error;
  }
  const app = await buildApp({
    store: stores.main,
    tenants: config.tenants,
    storeFor: (partition) => stores.get(partition),
    limits: config.limits,
    idempotencyRetention: config.idempotencyRetention,
    eventRetention: config.eventRetention,
    nats: config.nats,
    webhooks: { timeoutMs: config.webhooks.timeoutMs, concurrency: config.webhooks.concurrency, retry: { ...DEFAULT_RETRY, retryForMs: config.webhooks.retryForMs } },
    corsWriteOrigins: config.corsWriteOrigins,
    rateLimit: config.rateLimit,
    notFoundStatus: config.notFoundStatus,
    businessAttributes: config.businessAttributes,
    profileAttributes: config.profileAttributes,
    users: config.useRole ? config.users : undefined,
    expiration: config.expiration,
    autoComplete: config.autoComplete,
    logger: await loggerOptions(config.logLevel, config.logFormat),
  });
  let address: string;
  try {
    address = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await stores.close();
    throw error;
  }
  // where a person goes next: the API, the console, the docs, and which store this is
  app.log.info({ api: `${address}${BASE}`, console: `${address}/console`, docs: `${address}/docs`, store: describeDatabase(config.database) }, `contextd ${VERSION} ready`);
  app.sweeper.start();
  app.relay?.start();
  app.webhooks.start();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // keep-alive connections that were busy when closing began become idle later: close those as
      // they do, instead of waiting for their keep-alive timeout; requests arriving meanwhile get 503.
      // Connections still sending a request (headers or body not all there: a slow or hostile client)
      // are closed too: nothing of theirs has been acted on.
      app.connections.closeUnfinished();
      const idleCloser = setInterval(() => app.connections.closeUnfinished(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(idleCloser);
      }
      await stores.close();
    })());
  return { app, address, stop };
}

export function stopOnSignals(server: RunningServer, timeoutMs = 10_000): void {
  const onSignal = (signal: NodeJS.Signals) => {
    server.app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      server.app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    server.stop().then(
      () => process.exit(0),
      (error) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
