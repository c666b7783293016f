// Privacy requests: erase everything of one customer, or export it as one document. Both leave an
// audit record (who, when, how many); with roles on, both need Administrator.
import { invalid } from '../../domain/errors.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { parseExtensionSelection, presentProfileForExport } from '../../domain/present.js';
import { readQueryCount, readStringId } from '../../domain/fields.js';
import { errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';
import { serviceViews } from '../../app/views.js';

const tags = ['privacy'];
const Params = Type.Object({ customer_id: Type.String() });

export function actorOf(request: FastifyRequest): string {
  return request.user ?? 'anonymous';
}

export default async function customerRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();

  app.delete(
    `/customers/:customer_id`,
    {
      schema: {
        tags,
        summary: 'Erase a customer: the profile and every service, state, task and extension, in one transaction',
        params: Params,
        response: { 200: Type.Object({ customer_id: Type.String(), erased: Type.Object({ profile: Type.Integer(), services: Type.Integer() }) }), ...errorResponses },
      },
    },
    async (request) => {
      const customerId = readStringId('customer_id', request.params.customer_id);
      const erased = await request.scope.store.eraseCustomer(customerId, { at: app.clock(), actor: actorOf(request), action: 'customer.erase', subject: customerId });
      return { customer_id: customerId, erased };
    },
  );

  app.get(
    `/customers/:customer_id/export`,
    {
      config: { requires: 'Administrator' },
      schema: {
        tags,
        summary: 'Export a customer: the profile with all its extensions and every service with its states, tasks and extensions',
        params: Params,
        response: {
          200: Type.Object(
            { customer_id: Type.String(), profile: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]), services: Type.Array(Type.Unknown()) },
            { additionalProperties: false },
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const customerId = readStringId('customer_id', request.params.customer_id);
      const [profile] = await request.scope.store.getProfiles([customerId]);
      const services = await request.scope.store.listServices({ customerId, status: 'all', serviceTypes: [] });
      const views = await serviceViews(request.scope, services, {
        activeStates: true,
        completedStates: true,
        activeTasks: true,
        completedTasks: true,
        extensions: parseExtensionSelection(['*'], 'service'),
      });
      await request.scope.store.appendAudit({ at: app.clock(), actor: actorOf(request), action: 'customer.export', subject: customerId, counts: { profile: profile ? 1 : 0, services: services.length } });
      return { customer_id: customerId, profile: profile ? presentProfileForExport(profile) : null, services: views };
    },
  );

  app.get(
    `/maintenance/audit`,
    {
      config: { requires: 'Administrator' },
      schema: {
        tags,
        summary: 'The audit log of erasures, exports and purges, newest first',
        querystring: Type.Object({ limit: Type.Optional(Type.String({ description: 'at most this many (default 100)' })) }),
        response: {
          200: Type.Array(
            Type.Object({
              id: Type.Integer(),
              at: Type.String(),
              actor: Type.String(),
              action: Type.String(),
              subject: Type.Optional(Type.String()),
              counts: Type.Record(Type.String(), Type.Integer()),
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const limit = readQueryCount('limit', request.query.limit) ?? 100;
      if (limit > app.limits.listLimit) throw invalid(`limit: at most ${app.limits.listLimit} (limits.list_limit)`);
      return (await request.scope.store.listAudit(limit)).map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
    },
  );
}
