// Journey analytics (a contextd extension, #17). Reads: Supervisor with roles on.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { liveBoard, type LiveRow } from '../../app/analytics.js';
import { errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';

const tags = ['analytics'];

const TypeOut = Type.Union([Type.Integer(), Type.String(), Type.Null()], { description: 'the type (its business-attribute name with map-names); null for elements without one' });
const rowFields = {
  active: Type.Integer({ description: 'how many are open now' }),
  oldest_started: Type.String({ description: 'ISO 8601: the start of the oldest' }),
  oldest_age_seconds: Type.Number(),
  median_age_seconds: Type.Number({ description: 'how long the median one has been open' }),
};
const LiveOut = Type.Object({
  at: Type.String({ description: 'ISO 8601: when the board was read' }),
  active_services: Type.Integer(),
  waiting_states: Type.Integer(),
  services: Type.Array(Type.Object({ service_type: TypeOut, ...rowFields }), { description: 'active services by service type, the largest group first' }),
  states: Type.Array(Type.Object({ state_type: TypeOut, ...rowFields }), { description: 'open states of active services by state type, the largest group first' }),
});

function present(row: LiveRow) {
  return {
    active: row.active,
    oldest_started: new Date(row.oldestStartedAt).toISOString(),
    oldest_age_seconds: row.oldestAge / 1000,
    median_age_seconds: row.medianAge / 1000,
  };
}

export default async function analyticsRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();

  app.get(
    '/analytics/live',
    {
      schema: {
        tags,
        summary: 'What is open now: active services by type and waiting states by type, with the age of the oldest and the median',
        response: { 200: LiveOut, ...errorResponses },
      },
    },
    async (request) => {
      const board = await liveBoard(request.scope, app.clock());
      return {
        at: new Date(board.at).toISOString(),
        active_services: board.services.reduce((n, r) => n + r.active, 0),
        waiting_states: board.states.reduce((n, r) => n + r.active, 0),
        services: board.services.map((r) => ({ service_type: r.type === null ? null : (r.type as number | string), ...present(r) })),
        states: board.states.map((r) => ({ state_type: r.type === null ? null : (r.type as number | string), ...present(r) })),
      };
    },
  );
}
