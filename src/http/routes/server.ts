// Server mode (spec reference profiles-schemas §2.19). The documentation makes switching to
// maintenance the step before creating identification keys, so clients call it; here schema changes
// are online and there is no maintenance mode: GET answers `production`, and POST accepts the
// documented bodies, answers as documented and changes nothing (see docs/decisions.md).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../domain/errors.js';
import { errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';

const tags = ['server'];
const ModeOut = Type.Object({ mode: Type.Literal('production'), online_schema_changes: Type.Boolean() });
const MODES = ['maintenance', 'production'];

export default async function serverRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();
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
