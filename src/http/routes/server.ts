// Server mode (spec reference profiles-schemas §2.19). The documentation makes switching to
// maintenance the step before creating identification keys, so clients call it; here schema changes
// are online and there is no maintenance mode: GET answers `production`, and POST accepts the
// documented bodies, answers as documented and changes nothing (see docs/decisions.md).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../domain/errors.js';
import { errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';
import { partitionsOf, type Tenant } from '../../domain/tenancy.js';

const tags = ['server'];
const ModeOut = Type.Object({ mode: Type.Literal('production'), online_schema_changes: Type.Boolean() });
const MODES = ['maintenance', 'production'];

const PartitionOut = Type.Object({
  contact_center_id: Type.String({ description: 'the tenant id, for the ContactCenterId header' }),
  tenant: Type.String(),
  group: Type.Optional(Type.String({ description: 'for the GroupId header' })),
});

export default async function serverRoutes(instance: FastifyInstance, options: { tenants: readonly Tenant[] }): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();

  // a contextd extension: what the console's tenant and group picker offers (empty in single-tenant mode)
  app.get(
    `/server/partitions`,
    {
      config: { unscoped: true },
      schema: {
        tags,
        summary: 'The tenants and groups the caller may use (contextd extension; empty in single-tenant mode)',
        response: { 200: Type.Array(PartitionOut), ...errorResponses },
      },
    },
    async (request) =>
      (options.tenants.length === 0 ? [] : partitionsOf(options.tenants))
        .filter((partition) => !request.mayUse || request.mayUse(partition))
        .map((partition) => ({
          contact_center_id: String(partition.tenant!.id),
          tenant: partition.tenant!.name,
          ...(partition.group === undefined ? {} : { group: partition.group }),
        })),
  );
  const current = { mode: 'production' as const, online_schema_changes: true };

  for (const url of [`/server/mode`, `/server/status`]) {
    app.get(url, { schema: { tags, summary: 'Server mode: always production (schema changes are online)', response: { 200: ModeOut, ...errorResponses } } }, async () => current);
  }

  app.post(
    `/server/mode`,
    {
      schema: {
        tags,
        summary: 'Set Server Mode: accepted for compatibility; the server stays in production mode',
        body: Type.Object({ mode: Type.String() }, { additionalProperties: true, 'x-expected': 'a JSON object with mode' }),
        response: { 200: Type.Object({ 'server changed': Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const mode = request.body.mode.toLowerCase();
      if (!MODES.includes(mode)) throw invalid(`mode must be maintenance or production, got ${JSON.stringify(request.body.mode)}`);
      return reply.status(200).header('location', '/server/status').send({ 'server changed': mode });
    },
  );
}
