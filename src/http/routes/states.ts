// States: start, end, transition, query, extensions (spec reference §2.2).
import type { FastifyInstance } from 'fastify';
import { listPage } from '../pages.js';
import type { RequestTypeProvider } from '../types.js';
import { registerExtensionWrites } from './extension-writes.js';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../domain/errors.js';
import { parseElementEnd, parseStateStart, parseStateTransition } from '../../domain/events.js';
import { readQueryList } from '../../domain/fields.js';
import { parseElementId } from '../../domain/ids.js';
import { BASE, LIST_SUFFIXES, EmptyOut, StateOut, errorResponses } from '../schemas/common.js';
import { ServiceIdParams } from '../schemas/services.js';
import { ElementEndBody, StartStateOut, StateExtensionParams, StateListQuery, StateParams, StateQuery, StateStartBody, TransitionBody } from '../schemas/states.js';
import { readNesting, stateViews } from '../../app/views.js';

const tags = ['states'];

export default async function stateRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();
  const { clock } = app;

  const created = (serviceId: bigint, stateId: number) => ({
    location: `${BASE}/services/${serviceId}/states/${stateId}`,
    body: { state_id: stateId },
  });

  app.post(
    `/services/:service_id/states/start`,
    { schema: { tags, summary: 'Start State', params: ServiceIdParams, body: StateStartBody, response: { 201: StartStateOut, ...errorResponses } } },
    async (request, reply) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      const stateId = await request.scope.journeys.startState(serviceId, parseStateStart(request.body, clock()));
      const { location, body } = created(serviceId, stateId);
      return reply.status(201).header('location', location).send(body);
    },
  );

  app.post(
    `/services/:service_id/states/transition`,
    {
      schema: { tags, summary: 'Perform State Transition', params: ServiceIdParams, body: TransitionBody, response: { 201: StartStateOut, ...errorResponses } },
    },
    async (request, reply) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      const stateId = await request.scope.journeys.transitionState(serviceId, parseStateTransition(request.body, clock()));
      const { location, body } = created(serviceId, stateId);
      return reply.status(201).header('location', location).send(body);
    },
  );

  app.post(
    `/services/:service_id/states/:state_id/end`,
    {
      config: { optionalBody: true },
      schema: { tags, summary: 'Complete State', params: StateParams, body: ElementEndBody, response: { 204: EmptyOut, ...errorResponses } } },
    async (request, reply) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      const stateId = parseElementId('state_id', request.params.state_id);
      await request.scope.journeys.endState(serviceId, stateId, parseElementEnd(request.body, clock(), 'state'));
      return reply.status(204).send();
    },
  );

  app.get(
    `/services/:service_id/states/:state_id`,
    { schema: { tags, summary: 'Query State by ID', params: StateParams, querystring: StateQuery, response: { 200: StateOut, ...errorResponses } } },
    async (request) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      const stateId = parseElementId('state_id', request.params.state_id);
      const nesting = readNesting(request.query, 'state');
      if (!(await request.scope.store.getService(serviceId))) throw notFound('service', serviceId);
      const state = await request.scope.store.getState(serviceId, stateId);
      if (!state) throw notFound('state', stateId);
      const [view] = await stateViews(request.scope, [state], nesting, true);
      return view;
    },
  );

  registerExtensionWrites(app, {
    url: `/services/:service_id/states/:state_id/extensions/:name`,
    entity: 'states',
    label: 'State',
    params: StateExtensionParams,
    owner: (request) => ({ kind: 'state', serviceId: request.scope.serviceId(request.params.service_id), id: parseElementId('state_id', request.params.state_id!) }),
  });

  for (const [suffix, status] of LIST_SUFFIXES) {
    app.get(
      `/services/:service_id/states${suffix}`,
      {
        schema: {
          tags,
          summary: `Query States (${status})`,
          params: ServiceIdParams,
          querystring: StateListQuery,
          response: { 200: Type.Array(StateOut), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { scope } = request;
        const serviceId = scope.serviceId(request.params.service_id);
        const nesting = readNesting(request.query, 'state');
        const filter = { serviceIds: [serviceId], status, stateTypes: scope.catalog.typeFilter('State', readQueryList(request.query.state_types)) };
        if (!(await scope.store.getService(serviceId))) throw notFound('service', serviceId);
        const states = await listPage(
          request,
          reply,
          scope.store,
          app.limits.listLimit,
          (page) => scope.store.listStates({ ...filter, ...page }),
          (state) => ({ startedAt: state.startedAt, id: BigInt(state.stateId) }),
        );
        return stateViews(scope, states, nesting, true);
      },
    );
  }
}
