// Journey analytics (a contextd extension, #17). Reads: Supervisor with roles on.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { MAX_FUNNEL_STEPS, funnel, liveBoard, outcomes, timeInState, type LiveRow } from '../../app/analytics.js';
import { invalid } from '../../domain/errors.js';
import { GROUPS, HOUR_MS, RELATIVE_ACCURACY, parseStateQuery, parseWindow } from '../../domain/analytics.js';
import { readQueryList } from '../../domain/fields.js';
import { LongOrStringOut, QueryList, QueryTime, errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';

const tags = ['analytics'];

// `type: [...]` rather than a union (anyOf): fast-json-stringify checks it with typeof instead of a
// validator call per value, which made a month's report by day cost ~0.4 ms per answer to serialize
const longOrStringOrNull = (description?: string) => Type.Unsafe<number | string | null>({ type: ['integer', 'string', 'null'], ...(description ? { description } : {}) });
const TypeOut = longOrStringOrNull('the type (its business-attribute name with map-names); null for elements without one');
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

/**
 * The reports (time in state, outcomes, funnel) are shared by query until the next write
 * (app/analytics.ts), and so is their answer: it is serialized once per report, and every reader of
 * the same report gets the same bytes. A month by day is ~150 rows; serializing it for every reader
 * cost more than the rest of the request. Kept beside the report, dropped with it.
 */
const answers = new WeakMap<object, ReturnType<FastifyReply['serialize']>>();

function sendShared(reply: FastifyReply, report: object, answer: () => unknown): FastifyReply {
  let body = answers.get(report);
  if (body === undefined) answers.set(report, (body = reply.serialize(answer())));
  return reply.type('application/json; charset=utf-8').send(body);
}

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

  const Durations = Type.Object(
    {
      p50: Type.Number(),
      p90: Type.Number(),
      p99: Type.Number(),
      mean: Type.Number(),
      max: Type.Number(),
    },
    { description: `ms, of the completed ones; quantiles within ${RELATIVE_ACCURACY * 100} % of the true value (DDSketch), mean and max exact` },
  );
  app.get(
    '/analytics/states',
    {
      schema: {
        tags,
        summary: 'Time in state: per state type (and group), the states started in the window, how many completed, are still open or were deleted open, and the duration quantiles',
        querystring: Type.Object(
          {
            from: Type.Optional(QueryTime),
            to: Type.Optional(QueryTime),
            service_types: Type.Optional(QueryList),
            state_types: Type.Optional(QueryList),
            group_by: Type.Optional(Type.String({ description: GROUPS.join(' | ') })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            from: Type.String({ description: 'the window, rounded out to whole hours' }),
            to: Type.String(),
            group_by: Type.Optional(Type.String()),
            states: Type.Array(
              Type.Object({
                state_type: TypeOut,
                group: Type.Optional(longOrStringOrNull('the group: a type, or the hour / day start (ISO 8601)')),
                started: Type.Integer(),
                completed: Type.Integer(),
                active: Type.Integer({ description: 'still open' }),
                removed: Type.Integer({ description: 'deleted while open (purge, expiry, erase, delete)' }),
                duration_ms: Type.Optional(Durations),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const scope = request.scope;
      const query = parseStateQuery(
        request.query,
        { serviceTypes: scope.catalog.typeFilter('Service', readQueryList(request.query.service_types)), stateTypes: scope.catalog.typeFilter('State', readQueryList(request.query.state_types)) },
        app.clock(),
      );
      const rows = await timeInState(scope, query);
      const groupOut = (g: unknown) =>
        query.groupBy === 'hour' ? new Date((g as number) * HOUR_MS).toISOString() : query.groupBy === 'day' ? new Date((g as number) * 24 * HOUR_MS).toISOString() : (g as string | number | null);
      return sendShared(reply, rows, () => ({
        from: new Date(query.fromHour * HOUR_MS).toISOString(),
        to: new Date(query.toHour * HOUR_MS).toISOString(),
        group_by: query.groupBy,
        states: rows.map((r) => ({
          state_type: r.stateType as string | number | null,
          ...(query.groupBy ? { group: groupOut(r.group) } : {}),
          started: r.started,
          completed: r.completed,
          active: r.active,
          removed: r.removed,
          duration_ms: r.durations,
        })),
      }));
    },
  );

  app.get(
    '/analytics/outcomes',
    {
      schema: {
        tags,
        summary: 'Outcomes: of the services started in the window, per service type, how many completed (per disposition, with the time to complete), are still open, or were deleted open',
        querystring: Type.Object({ from: Type.Optional(QueryTime), to: Type.Optional(QueryTime), service_types: Type.Optional(QueryList) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            from: Type.String({ description: 'the window, rounded out to whole hours' }),
            to: Type.String(),
            services: Type.Array(
              Type.Object({
                service_type: TypeOut,
                started: Type.Integer(),
                completed: Type.Integer(),
                active: Type.Integer({ description: 'still open' }),
                removed: Type.Integer({ description: 'deleted while open' }),
                time_to_complete_ms: Type.Optional(Durations),
                dispositions: Type.Array(
                  Type.Object({
                    disposition: longOrStringOrNull('null: completed without one (auto-complete included)'),
                    completed: Type.Integer(),
                    time_to_complete_ms: Type.Optional(Durations),
                  }),
                  { description: 'the most frequent first' },
                ),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const scope = request.scope;
      const query = parseStateQuery(request.query, { serviceTypes: scope.catalog.typeFilter('Service', readQueryList(request.query.service_types)), stateTypes: [] }, app.clock());
      const rows = await outcomes(scope, query);
      return sendShared(reply, rows, () => ({
        from: new Date(query.fromHour * HOUR_MS).toISOString(),
        to: new Date(query.toHour * HOUR_MS).toISOString(),
        services: rows.map((r) => ({
          service_type: r.serviceType as string | number | null,
          started: r.started,
          completed: r.completed,
          active: r.active,
          removed: r.removed,
          time_to_complete_ms: r.durations,
          dispositions: r.dispositions.map((d) => ({ disposition: d.disposition as string | number | null, completed: d.completed, time_to_complete_ms: d.durations })),
        })),
      }));
    },
  );

  app.get(
    '/analytics/funnel',
    {
      schema: {
        tags,
        summary: 'A funnel: of the services of one type started in the window, how many reached each state type in order, the median time between steps, and where the others stopped',
        querystring: Type.Object(
          {
            service_type: Type.String({ minLength: 1, description: 'the services of this type', examples: ['Billing'] }),
            steps: QueryList,
            from: Type.Optional(QueryTime),
            to: Type.Optional(QueryTime),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            service_type: LongOrStringOut,
            from: Type.String(),
            to: Type.String(),
            services: Type.Integer({ description: 'started in the window' }),
            steps: Type.Array(
              Type.Object({
                state_type: LongOrStringOut,
                reached: Type.Integer(),
                conversion: Type.Number({ description: 'reached ÷ reached the step before (÷ services for the first step)' }),
                median_ms_from_previous: Type.Optional(Type.Number({ description: 'within 1 %' })),
              }),
            ),
            stopped: Type.Array(
              Type.Object({
                after_step: Type.Integer({ description: 'how many steps they reached (0: not the first)' }),
                count: Type.Integer(),
                active: Type.Integer({ description: 'still open' }),
                dispositions: Type.Array(Type.Object({ disposition: longOrStringOrNull(), count: Type.Integer() }), { description: 'the completed ones, by disposition' }),
                last_states: Type.Array(Type.Object({ state_type: longOrStringOrNull(), count: Type.Integer() }), { description: 'by the type of their last state' }),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const steps = readQueryList(request.query.steps);
      if (steps.length < 1 || steps.length > MAX_FUNNEL_STEPS) throw invalid(`steps must list 1 to ${MAX_FUNNEL_STEPS} state types, comma-separated`);
      const { from, to } = parseWindow(request.query, app.clock());
      const answer = await funnel(request.scope, { serviceType: request.query.service_type, steps, from, to });
      return sendShared(reply, answer, () => ({
        service_type: answer.serviceType as string | number,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        services: answer.services,
        steps: answer.steps.map((s, i) => ({
          state_type: s.stateType as string | number,
          reached: s.reached,
          conversion: (i === 0 ? answer.services : answer.steps[i - 1].reached) === 0 ? 0 : s.reached / (i === 0 ? answer.services : answer.steps[i - 1].reached),
          median_ms_from_previous: s.medianFromPreviousMs,
        })),
        stopped: answer.stops.map((s) => ({
          after_step: s.afterStep,
          count: s.count,
          active: s.active,
          dispositions: s.dispositions.map((d) => ({ disposition: d.disposition as string | number | null, count: d.count })),
          last_states: s.lastStates.map((l) => ({ state_type: l.stateType as string | number | null, count: l.count })),
        })),
      }));
    },
  );
}
