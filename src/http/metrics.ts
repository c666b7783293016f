// GET /metrics in Prometheus's text format (prom-client): requests and their latency by route and
// status, each store's group commits (writes per batch, transaction time) and connection pool, SSE
// subscribers, sweeps, and Node's own figures (event-loop lag, heap, GC). One registry per app, so
// that apps built side by side (tests) count apart. At the root like /health: no credentials, and
// nothing in it names a customer.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventHub } from '../app/events.js';
import type { SweepResult } from '../sweeper.js';
import type { Partition } from '../domain/tenancy.js';
import type { Store } from '../store/store.js';

/** a partition as a label value: `main`, or its key (tenant id, and group: `101`, `101/Sales`) */
const partitionLabel = (partition: Partition) => (partition.key === '' ? 'main' : partition.key);

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Histogram({
    name: 'contextd_http_request_duration_seconds',
    help: 'HTTP requests by method, route (its pattern; "unmatched" for no route) and status code, and how long each took to answer',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly batchWrites = new Histogram({
    name: 'contextd_group_commit_writes',
    help: 'Writes committed together in one transaction (group commit), per partition',
    labelNames: ['partition'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  private readonly batchSeconds = new Histogram({
    name: 'contextd_group_commit_duration_seconds',
    help: "A group commit's transaction, from BEGIN to COMMIT, per partition",
    labelNames: ['partition'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private readonly sweeps = new Counter({ name: 'contextd_sweeps_total', help: 'Background sweeps run (expiry, retention, auto-complete)', registers: [this.registry] });
  private readonly swept = new Counter({
    name: 'contextd_swept_services_total',
    help: 'Services the sweeps deleted as expired or auto-completed',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  constructor(targets: readonly { partition: Partition; store: Store }[], events: EventHub) {
    collectDefaultMetrics({ register: this.registry });
    for (const { partition, store } of targets) {
      const labels = { partition: partitionLabel(partition) };
      store.onBatchCommitted((writes, ms) => {
        this.batchWrites.observe(labels, writes);
        this.batchSeconds.observe(labels, ms / 1000);
      });
    }
    new Gauge({
      name: 'contextd_store_connections',
      help: "The PostgreSQL pool's connections per partition: total open, idle, and requests waiting for one",
      labelNames: ['partition', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const { partition, store } of targets) {
          const use = store.connections();
          if (!use) continue;
          for (const state of ['total', 'idle', 'waiting'] as const) this.set({ partition: partitionLabel(partition), state }, use[state]);
        }
      },
    });
    new Gauge({
      name: 'contextd_sse_subscribers',
      help: 'Clients reading GET /events on this node',
      registers: [this.registry],
      collect() {
        this.set(events.subscriberCount);
      },
    });
  }

  /** A sweep of every partition finished. */
  countSweep(result: SweepResult): void {
    this.sweeps.inc();
    if (result.expired > 0) this.swept.inc({ action: 'expired' }, result.expired);
    if (result.completed > 0) this.swept.inc({ action: 'auto_completed' }, result.completed);
  }

  /** Times every answer (onResponse: after it was sent) and serves the registry at /metrics. */
  register(app: FastifyInstance): void {
    // one child per method, route and status, kept: labels() hashes its labels on every call
    const series = new Map<string, Histogram.Internal<'method' | 'route' | 'status_code'>>();
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const key = `${request.method} ${reply.statusCode} ${route}`;
      let child = series.get(key);
      if (!child) series.set(key, (child = this.requests.labels(request.method, route, String(reply.statusCode))));
      child.observe(reply.elapsedTime / 1000);
      done();
    });
    app.get('/metrics', { schema: { tags: ['server'], summary: 'Metrics in the Prometheus text format', produces: ['text/plain'] } }, async (_request, reply) =>
      reply.type(this.registry.contentType).send(await this.registry.metrics()),
    );
  }
}
