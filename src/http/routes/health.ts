// Liveness, readiness and the OpenAPI document, at the root and without credentials; `/` leads a
// person to the console.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Store } from '../../store/store.js';

const StoreStatus = Type.Object({ kind: Type.String(), ok: Type.Boolean(), detail: Type.Optional(Type.String()) });

const HealthOut = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  store: StoreStatus,
  version: Type.String(),
});

const ReadyOut = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  /** every store the node serves (one per tenant partition), each reachable and migrated */
  stores: Type.Array(Type.Object({ partition: Type.String(), ok: Type.Boolean(), pending_migrations: Type.Array(Type.Integer()), detail: Type.Optional(Type.String()) })),
  version: Type.String(),
});

async function readiness(partition: string, store: Store) {
  try {
    const pending = await store.pendingMigrations();
    return { partition, ok: pending.length === 0, pending_migrations: pending, ...(pending.length > 0 ? { detail: `migrations ${pending.join(', ')} are not applied (contextd migrate)` } : {}) };
  } catch (error) {
    return { partition, ok: false, pending_migrations: [], detail: `the store cannot be read: ${(error as Error).message}` };
  }
}

export default async function healthRoutes(app: FastifyInstance, options: { version: string }): Promise<void> {
  app.get(
    '/health',
    { schema: { tags: ['server'], summary: 'Liveness: the process answers and its store takes a write', response: { 200: HealthOut, 503: HealthOut } } },
    async (_request, reply) => {
      const store = await app.mainStore.health();
      return reply.status(store.ok ? 200 : 503).send({ status: store.ok ? 'ok' : 'unavailable', store, version: options.version });
    },
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['server'],
        summary: 'Readiness: every store this node serves can be read and is migrated (for a load balancer; 503 while it is not)',
        response: { 200: ReadyOut, 503: ReadyOut },
      },
    },
    async (_request, reply) => {
      const partitions = new Map<string, Store>([['', app.mainStore], ...[...app.scopes].map(([key, scope]) => [key, scope.store] as [string, Store])]);
      const stores = await Promise.all([...partitions].map(([key, store]) => readiness(key, store)));
      const ready = stores.every((s) => s.ok);
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', stores, version: options.version });
    },
  );

  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 302));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
