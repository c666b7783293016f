// GET /genesys/1/cs/events: Server-Sent Events, filtered by customer_id, contact_key, service_id and
// kinds; resumable with Last-Event-ID on any node, for as long as the outbox keeps the events.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../domain/errors.js';
import { readQueryList } from '../../domain/fields.js';
import { EVENT_KINDS, type EventFilter, type EventKind } from '../../domain/event-kinds.js';
import { SseWriter } from '../sse.js';
import { QueryList, errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';

const HEARTBEAT_MS = 15_000;

async function* noEvents(): AsyncGenerator<never> {}

const EventsQuery = Type.Object(
  {
    customer_id: Type.Optional(Type.String()),
    contact_key: Type.Optional(Type.String()),
    service_id: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
    kinds: Type.Optional(QueryList),
  },
  { additionalProperties: false },
);

export default async function eventRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();
  // open streams end before the server closes (they would hold a graceful shutdown forever)
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  app.get(
    `/events`,
    {
      schema: {
        tags: ['events'],
        summary: 'Live journey events (Server-Sent Events)',
        description: `One event per committed write. Event names: ${EVENT_KINDS.join(', ')}. Each event's data is a JSON object with id, kind, at and, where they apply, service_id, customer_id, contact_key, state_id, from_state_id, task_id, extension, purged, imported, entity, name. Ids increase in commit order and are the same on every node: send Last-Event-ID to resume, on any node, within the retention (events.retention, default 7d).`,
        querystring: EventsQuery,
        response: { 200: Type.String({ description: 'a text/event-stream of events (id, event: kind, data: JSON)' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const kinds = readQueryList(request.query.kinds);
      for (const kind of kinds) if (!(EVENT_KINDS as readonly string[]).includes(kind)) throw invalid(`kinds: unknown event kind ${kind}; known: ${EVENT_KINDS.join(', ')}`);
      const filter: EventFilter = {
        customerId: request.query.customer_id,
        contactKey: request.query.contact_key,
        serviceId: request.query.service_id === undefined ? undefined : BigInt(request.query.service_id),
        kinds: kinds.length ? (kinds as EventKind[]) : undefined,
      };
      const lastHeader = request.headers['last-event-id'];
      const last = typeof lastHeader === 'string' && /^\d+$/.test(lastHeader) ? Number(lastHeader) : undefined;

      const raw = reply.raw;
      // a subscriber that stops reading is cut off (it resumes with Last-Event-ID)
      const writer = new SseWriter(raw, () => raw.destroy());
      // cleanup is in place before the subscription, so a client that leaves at once leaks nothing
      let unsubscribe: (() => void) | undefined;
      let heartbeat: NodeJS.Timeout | undefined;
      let closed = false;
      const stop = () => {
        closed = true;
        clearInterval(heartbeat);
        unsubscribe?.();
        streams.delete(end);
      };
      const end = () => {
        stop();
        raw.end();
      };
      streams.add(end);
      raw.once('close', stop);
      // subscribed first (live events queue in the writer until the replay is done), and before the
      // answer starts: a store that cannot say where the outbox ends gets its error answered (503)
      try {
        unsubscribe = await app.events.subscribe(request.scope, filter, (event) => writer.live(event));
      } catch (error) {
        stop();
        throw error;
      }
      if (closed) return unsubscribe();
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // the greeting comes once every node sends this node its wake-ups
      writer.comment(': contextd events\nretry: 2000\n\n');
      heartbeat = setInterval(() => writer.comment(': keep-alive\n\n'), HEARTBEAT_MS);
      try {
        await writer.replay(last === undefined ? noEvents() : app.events.since(request.scope.store, filter, last));
      } catch (error) {
        // the store failed mid-replay: end the stream; the client reconnects with its Last-Event-ID
        request.log.warn({ err: error }, 'event replay failed');
        end();
      }
    },
  );
}
