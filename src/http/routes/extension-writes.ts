// PUT …/extensions/{name} (replace) and PUT …/extensions/{name}/merge (Merge Extension Data) for
// services, states and tasks: one definition, three owners.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { parseExtensionValue } from '../../domain/events.js';
import type { ExtensionOwner } from '../../store/store.js';
import { EmptyOut, ExtensionValueIn, errorResponses } from '../schemas/common.js';

type ExtensionRequest = FastifyRequest<{ Params: { service_id: string; name: string; state_id?: string; task_id?: string }; Body: unknown }>;

export interface ExtensionWrites {
  /** the extension's path, `…/extensions/:name` */
  url: string;
  entity: 'services' | 'states' | 'tasks';
  label: 'Service' | 'State' | 'Task';
  params: TSchema;
  owner: (request: ExtensionRequest) => ExtensionOwner;
}

export function registerExtensionWrites(app: FastifyInstance, spec: ExtensionWrites): void {
  for (const merge of [false, true]) {
    app.put(
      `${spec.url}${merge ? '/merge' : ''}`,
      {
        schema: {
          tags: [spec.entity],
          summary: merge ? `Merge ${spec.label} Extension Data (adds or replaces the body's keys)` : `Update ${spec.label} Extension (replaces the value)`,
          params: spec.params,
          body: ExtensionValueIn,
          response: { 200: EmptyOut, ...errorResponses },
        },
      },
      async (request: ExtensionRequest, reply) => {
        // merge: the stored value is read and merged inside the write's transaction (see mergeExtensions)
        await request.scope.journeys.putExtension(spec.owner(request), parseExtensionValue(request.params.name, request.body), merge);
        return reply.status(200).send();
      },
    );
  }
}
