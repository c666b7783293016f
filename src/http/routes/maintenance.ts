// Purge and export (spec reference §2.4). With roles on, purge needs Administrator (as every write).
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { parseExport, parsePurge } from '../../domain/maintenance.js';
import { exportServices, purgeServices } from '../../app/maintenance.js';
import { actorOf } from './customers.js';
import { QueryBoolean, QueryTime, errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';

const tags = ['maintenance'];

export default async function maintenanceRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();

  app.post(
    `/maintenance/purge`,
    {
      schema: {
        tags,
        summary: 'Purge Services started before `limit`',
        body: Type.Object(
          {
            limit: Type.String({ description: 'cut-off date-time: services started before it' }),
            operation: Type.String({ description: 'purge.service.all | .started | .started.anonymous | .completed | .completed.anonymous' }),
          },
          { additionalProperties: true, 'x-expected': 'a JSON object' },
        ),
        response: { 200: Type.Object({ purged: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const { operation, before } = parsePurge(request.body);
      const purged = await purgeServices(request.scope.store, operation, before, actorOf(request), app.clock);
      return { purged };
    },
  );

  app.get(
    `/maintenance/services/stream`,
    {
      schema: {
        tags,
        summary: 'Export Services to JSON Stream',
        querystring: Type.Object(
          {
            time_from: QueryTime,
            time_to: Type.Optional(QueryTime),
            filter_events: Type.Optional(Type.String({ description: 'any (default) | started | completed' })),
            export_content: Type.Optional(QueryBoolean),
            filter_state: Type.Optional(Type.String({ description: 'any | active | inactive; with export_content=true only' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Type.Unknown(), { description: 'service ids, or whole services with export_content=true' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const exportRequest = parseExport(request.query, app.clock());
      return reply.type('application/json; charset=utf-8').send(Readable.from(exportServices(request.scope, exportRequest, actorOf(request), app.clock)));
    },
  );
}
