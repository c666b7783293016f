// Liveness and store reachability, and the OpenAPI document; both at the root, without credentials.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';

const HealthOut = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  store: Type.Object({ kind: Type.String(), ok: Type.Boolean(), detail: Type.Optional(Type.String()) }),
  version: Type.String(),
});

export default async function healthRoutes(app: FastifyInstance, options: { version: string }): Promise<void> {
  app.get(
    '/health',
    { schema: { tags: ['server'], summary: 'Liveness and store status', response: { 200: HealthOut, 503: HealthOut } } },
    async (_request, reply) => {
      const store = await app.mainStore.health();
      return reply.status(store.ok ? 200 : 503).send({ status: store.ok ? 'ok' : 'unavailable', store, version: options.version });
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
