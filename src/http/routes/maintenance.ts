// Purge and export (spec reference §2.4), and bulk import (a contextd extension, #19). With roles on,
// purge and import need Administrator (as every write).
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { parseExport, parsePurge } from '../../domain/maintenance.js';
import { invalid } from '../../domain/errors.js';
import { exportServices, purgeServices } from '../../app/maintenance.js';
import { importServices } from '../../app/import.js';
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

  // the body is read as it arrives, a record at a time, whatever its size: the JSON parser (which
  // buffers up to the body limit) is replaced here, in this route's own context only
  await instance.register(async (imports) => {
    imports.removeContentTypeParser('application/json');
    imports.addContentTypeParser(['application/json', 'application/x-ndjson'], (_request, payload, done) => done(null, payload));
    imports.withTypeProvider<RequestTypeProvider>().post(
      `/maintenance/services/import`,
      {
        config: { requires: 'Administrator' },
        // the body is documented, not validated: it is a stream, checked record by record as it is read
        validatorCompiler: () => () => true,
        schema: {
          tags,
          consumes: ['application/json', 'application/x-ndjson'],
          body: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'services as an export writes them (or, as NDJSON, one per line)' }),
          summary: 'Import Services (contextd extension): whole services as an export gives them',
          description:
            "The body is a JSON array of services as `GET /maintenance/services/stream?export_content=true` (contextd's or Genesys Context Services') writes it, or NDJSON (`application/x-ndjson`), one service per line; it is read as it arrives. " +
            'Each record is checked as the requests that would have built it; an invalid one is reported with its position and reason and leaves nothing behind, the others go in. ' +
            "Service, state and task ids are kept when free (and in the tenant's range), else new ones are given (`remapped`: old → new). A record imported before (the same content) is not imported again.",
          response: {
            200: Type.Object({
              records: Type.Integer({ description: 'records read' }),
              imported: Type.Integer(),
              already_imported: Type.Integer({ description: 'imported before, or earlier in the same body (the same content): not again' }),
              remapped: Type.Array(Type.Object({ from: Type.Union([Type.String(), Type.Null()]), to: Type.String() }), { description: 'services that could not keep the id of the file' }),
              invalid_count: Type.Integer(),
              invalid: Type.Array(Type.Object({ position: Type.Integer({ description: '1 = the first record' }), service_id: Type.Optional(Type.String()), reason: Type.String() }), {
                description: 'the first 1,000 invalid records',
              }),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        if (request.body === undefined) throw invalid('the request body must be a JSON array or NDJSON of services');
        return importServices(request.scope, request.body as unknown as AsyncIterable<Buffer>, actorOf(request), app.clock);
      },
    );
  });
}
