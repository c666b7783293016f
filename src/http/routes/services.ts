// Services: start, end, associate, query, delete, expiration, extensions (spec reference §2.1).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listPage } from '../pages.js';
import type { RequestTypeProvider } from '../types.js';
import { registerExtensionWrites } from './extension-writes.js';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../domain/errors.js';
import {
  parseElementEnd,
  parseExpirationUpdate,
  parseServiceAssociation,
  parseServiceStart,
} from '../../domain/events.js';
import { readQueryList, readStringId, readTimestamp } from '../../domain/fields.js';
import type { ElementStatus } from '../../domain/records.js';
import type { ServiceFilter } from '../../store/store.js';
import { BASE, LIST_SUFFIXES, EmptyOut, ServiceOut, errorResponses } from '../schemas/common.js';
import {
  AssociateBody,
  AssociateParams,
  ContactKeyParams,
  CustomerParams,
  ExpirationBody,
  ServiceEndBody,
  ServiceExtensionParams,
  ServiceIdParams,
  ServiceListQuery,
  ServiceQuery,
  ServiceSearchQuery,
  ServiceStartBody,
  StartServiceOut,
} from '../schemas/services.js';
import { readNesting, readPage, serviceViews } from '../../app/views.js';
import type { Scope } from '../scope.js';
import { readExtensionFilters, searchPage } from '../../app/search.js';
import { invalid } from '../../domain/errors.js';

const tags = ['services'];

/** The service-type and start-time filters the lists and the search take alike. */
function typeAndTime(scope: Scope, query: { service_types?: string | string[]; started_from?: string; started_to?: string }): Pick<ServiceFilter, 'serviceTypes' | 'startedFrom' | 'startedTo'> {
  return {
    serviceTypes: scope.catalog.typeFilter('Service', readQueryList(query.service_types)),
    startedFrom: query.started_from === undefined ? undefined : readTimestamp('started_from', query.started_from),
    startedTo: query.started_to === undefined ? undefined : readTimestamp('started_to', query.started_to),
  };
}

export default async function serviceRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();
  const { clock } = app;

  app.post(
    `/services/start`,
    { schema: { tags, summary: 'Start Service', body: ServiceStartBody, response: { 201: StartServiceOut, ...errorResponses } } },
    async (request, reply) => {
      const serviceId = await request.scope.journeys.startService(parseServiceStart(request.body, clock()));
      return reply.status(201).header('location', `${BASE}/services/${serviceId}`).send({ service_id: serviceId });
    },
  );

  app.post(
    `/services/:service_id/end`,
    {
      config: { optionalBody: true },
      schema: { tags, summary: 'Complete Service', params: ServiceIdParams, body: ServiceEndBody, response: { 204: EmptyOut, ...errorResponses } },
    },
    async (request, reply) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      await request.scope.journeys.endService(serviceId, parseElementEnd(request.body, clock(), 'service'));
      return reply.status(204).send();
    },
  );

  // a contextd extension: services of any owner, newest first, walked with a signed cursor
  app.get(
    `/services/search`,
    {
      schema: {
        tags,
        summary: 'Search services, newest first (contextd extension)',
        description:
          'Services of every owner, newest first. Filters combine; `next_cursor` (absent when there is no next page) fetches the next page with the same filters.\n\n' +
          'Extension values: `ext.<Extension>.<attribute>=value` finds the services whose service, one of its states or one of its tasks holds that value (exact) in a searchable attribute: one its schema marks `searchable: true`. `ext.<Extension>.<attribute>.min=` and `.max=` bound numbers, dates and date-times (inclusive). A filter on an attribute that is not searchable is a 400.',
        querystring: ServiceSearchQuery,
        response: { 200: Type.Object({ services: Type.Array(ServiceOut), next_cursor: Type.Optional(Type.String()) }), ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      const status = (query.status ?? 'all').toLowerCase();
      if (status !== 'active' && status !== 'completed' && status !== 'all') throw invalid(`status must be active, completed or all, got ${JSON.stringify(query.status)}`);
      const filter = {
        customerId: query.customer_id === undefined ? undefined : readStringId('customer_id', query.customer_id),
        contactKey: query.contact_key === undefined ? undefined : readStringId('contact_key', query.contact_key),
        status: status as ElementStatus,
        ...typeAndTime(request.scope, query),
        completedFrom: query.completed_from === undefined ? undefined : readTimestamp('completed_from', query.completed_from),
        completedTo: query.completed_to === undefined ? undefined : readTimestamp('completed_to', query.completed_to),
        dispositions: request.scope.catalog.typeFilter('Service', readQueryList(query.dispositions), 'disposition'),
        stateTypes: request.scope.catalog.typeFilter('State', readQueryList(query.state_types)),
        extensions: await readExtensionFilters(request.scope.schemas, query),
      };
      const limit = readPage({ limit: query.limit }, app.limits.listLimit).limit ?? Math.min(50, app.limits.listLimit);
      if (limit === 0) throw invalid('limit: at least 1');
      const page = await searchPage(request.scope.store, filter, limit, query.cursor);
      const services = await serviceViews(request.scope, page.services, readNesting(query, 'service'));
      return page.next === undefined ? { services } : { services, next_cursor: page.next };
    },
  );

  app.get(
    `/services/:service_id`,
    { schema: { tags, summary: 'Query Service by ID', params: ServiceIdParams, querystring: ServiceQuery, response: { 200: ServiceOut, ...errorResponses } } },
    async (request) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      const nesting = readNesting(request.query, 'service');
      const service = await request.scope.store.getService(serviceId);
      if (!service) throw notFound('service', serviceId);
      const [view] = await serviceViews(request.scope, [service], nesting);
      return view;
    },
  );

  app.delete(
    `/services/:service_id`,
    { schema: { tags, summary: 'Delete Service (with its states, tasks and extensions)', params: ServiceIdParams, response: { 200: EmptyOut, ...errorResponses } } },
    async (request, reply) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      await request.scope.journeys.deleteService(serviceId);
      return reply.status(200).send();
    },
  );

  app.put(
    `/services/:service_id`,
    {
      schema: { tags, summary: 'Update Expiration Time (TTL)', params: ServiceIdParams, body: ExpirationBody, response: { 200: EmptyOut, ...errorResponses } },
    },
    async (request, reply) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      await request.scope.journeys.updateExpiration(serviceId, parseExpirationUpdate(request.body));
      return reply.status(200).send();
    },
  );

  registerExtensionWrites(app, {
    url: `/services/:service_id/extensions/:name`,
    entity: 'services',
    label: 'Service',
    params: ServiceExtensionParams,
    owner: (request) => ({ kind: 'service', serviceId: request.scope.serviceId(request.params.service_id) }),
  });

  app.post(
    `/customers/:customer_id/services/:service_id`,
    {
      config: { optionalBody: true },
      schema: {
        tags,
        summary: 'Associate Service with a customer',
        params: AssociateParams,
        body: AssociateBody,
        response: { 204: EmptyOut, ...errorResponses },
      },
    },
    async (request, reply) => {
      const customerId = readStringId('customer_id', request.params.customer_id);
      const serviceId = request.scope.serviceId(request.params.service_id);
      await request.scope.journeys.associateService(serviceId, customerId, parseServiceAssociation(request.body));
      return reply.status(204).send();
    },
  );

  const listSchema = <P extends typeof CustomerParams | typeof ContactKeyParams>(summary: string, params: P) => ({
    schema: { tags, summary, params, querystring: ServiceListQuery, response: { 200: Type.Array(ServiceOut), ...errorResponses } },
  });

  for (const [suffix, status] of LIST_SUFFIXES) {
    app.get(`/customers/:customer_id/services${suffix}`, listSchema(`Query Customer Services (${status})`, CustomerParams), async (request, reply) => {
      const owner = { customerId: readStringId('customer_id', request.params.customer_id) };
      return listServices(request, reply, request.query, owner, status);
    });
    app.get(`/services/anonymous/:contact_key${suffix}`, listSchema(`Query Anonymous Services (${status})`, ContactKeyParams), async (request, reply) => {
      const owner = { contactKey: readStringId('contact_key', request.params.contact_key) };
      return listServices(request, reply, request.query, owner, status);
    });
  }

  async function listServices(
    request: FastifyRequest,
    reply: FastifyReply,
    query: typeof ServiceListQuery.static,
    owner: Pick<ServiceFilter, 'customerId' | 'contactKey'>,
    status: ElementStatus,
  ) {
    const { scope } = request;
    const nesting = readNesting(query, 'service');
    const filter: ServiceFilter = { ...owner, status, ...typeAndTime(scope, query) };
    const services = await listPage(
      request,
      reply,
      scope.store,
      app.limits.listLimit,
      (page) => scope.store.listServices({ ...filter, ...page }),
      (service) => ({ startedAt: service.startedAt, id: service.serviceId }),
    );
    return serviceViews(scope, services, nesting);
  }
}
