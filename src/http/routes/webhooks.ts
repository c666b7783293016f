// Webhooks (contextd's own extension, issue #16): subscriptions that receive the partition's events
// as signed HTTP POSTs (src/app/webhooks.ts). A webhook's URL and secret are an Administrator's
// business, so with roles on every route here needs Administrator, reads included.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { EVENT_KINDS } from '../../domain/event-kinds.js';
import { invalid, notFound } from '../../domain/errors.js';
import { readQueryCount } from '../../domain/fields.js';
import { MAX_WEBHOOKS_PER_PARTITION, parseWebhook, type Webhook, type WebhookProgress } from '../../domain/webhooks.js';
import { BASE, errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';

const tags = ['webhooks'];
const config = { requires: 'Administrator' as const };
const Params = Type.Object({ id: Type.String({ maxLength: 100, description: 'the webhook id (wh_…)' }) });

const WebhookIn = Type.Object(
  {
    url: Type.String({ maxLength: 2048, description: 'where deliveries are POSTed (http or https)', examples: ['http://127.0.0.1:9000/contextd'] }),
    kinds: Type.Optional(Type.Array(Type.String({ enum: [...EVENT_KINDS] }), { maxItems: EVENT_KINDS.length * 2, description: 'the event kinds to deliver; every kind when left out', examples: [['service.started', 'service.ended']] })),
    customer_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "only this customer's events" })),
    service_types: Type.Optional(
      Type.Array(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Integer()]), { maxItems: 100, description: 'only events of services of these types', examples: [['Billing']] }),
    ),
    extensions: Type.Optional(Type.Boolean({ description: "extension events (service.extension, …) carry `extensions`: the values of the extensions written, as they are when delivered (default false)" })),
    secret: Type.Optional(Type.String({ maxLength: 200, description: 'whsec_ and the base64 of 24–64 random bytes; contextd makes one when left out' })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  {
    additionalProperties: false,
    'x-expected': 'a JSON object with url and optionally kinds, customer_id, service_types, extensions, secret, description',
    // the whole example, so that "Try it out" sends no placeholder secret or customer
    examples: [{ url: 'http://127.0.0.1:9000/contextd', kinds: ['service.started', 'service.ended'], description: 'CRM sync' }],
  },
);

const webhookFields = {
  id: Type.String(),
  url: Type.String(),
  kinds: Type.Array(Type.String(), { description: 'empty: every kind' }),
  customer_id: Type.Optional(Type.String()),
  service_types: Type.Array(Type.String(), { description: 'empty: any type' }),
  extensions: Type.Boolean(),
  description: Type.Optional(Type.String()),
  created_at: Type.String({ description: 'ISO 8601' }),
  position: Type.Integer({ description: 'the last event id the webhook has taken from the outbox (delivered, queued for a retry, or not wanted)' }),
  pending: Type.Integer({ description: 'events waiting for a retry' }),
  dead: Type.Integer({ description: 'events dead-lettered after the retry period (see deliveries; replay sends them again)' }),
};
const WebhookOut = Type.Object(webhookFields);
const CreatedOut = Type.Object({ ...webhookFields, secret: Type.String({ description: 'the signing secret: shown once, here' }) });

const DeliveryOut = Type.Object({
  id: Type.Integer(),
  event_id: Type.Integer(),
  kind: Type.String(),
  attempt: Type.Integer({ description: '1 for the first try' }),
  at: Type.String({ description: 'ISO 8601: when it was sent' }),
  status: Type.Optional(Type.Integer({ description: "the receiver's HTTP status (absent without an answer)" })),
  latency_ms: Type.Integer(),
  error: Type.Optional(Type.String()),
  outcome: Type.String({ description: 'delivered | failed (to be retried) | dead (dead-lettered)' }),
});

function present(webhook: Webhook, progress: WebhookProgress) {
  return {
    id: webhook.id,
    url: webhook.url,
    kinds: webhook.kinds,
    customer_id: webhook.customerId,
    service_types: webhook.serviceTypes,
    extensions: webhook.includeExtensions,
    description: webhook.description,
    created_at: new Date(webhook.createdAt).toISOString(),
    ...progress,
  };
}

/** A count from the query (readQueryCount), at least 1 and at most `max`. */
function readCount(text: string | undefined, name: string, fallback: number, max: number): number {
  const n = readQueryCount(name, text) ?? fallback;
  if (n < 1 || n > max) throw invalid(`${name} must be an integer from 1 to ${max}`);
  return n;
}

export default async function webhookRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();

  async function existing(request: FastifyRequest, id: string): Promise<Webhook> {
    const webhook = await request.scope.store.getWebhook(id);
    if (!webhook) throw notFound('webhook', id);
    return webhook;
  }

  app.post(
    '/webhooks',
    {
      config,
      schema: {
        tags,
        summary: 'Create a webhook: signed deliveries of this partition’s events (Standard Webhooks)',
        body: WebhookIn,
        response: { 201: CreatedOut, ...errorResponses },
      },
    },
    async (request, reply) => {
      const webhook = parseWebhook(request.body, app.clock());
      await request.scope.store.createWebhook(webhook, MAX_WEBHOOKS_PER_PARTITION);
      await app.webhooks.refresh();
      const body = { ...present(webhook, await request.scope.store.webhookProgress(webhook.id)), secret: webhook.secret };
      return reply.status(201).header('location', `${BASE}/webhooks/${webhook.id}`).send(body);
    },
  );

  app.get('/webhooks', { config, schema: { tags, summary: 'List the webhooks', response: { 200: Type.Array(WebhookOut), ...errorResponses } } }, async (request) => {
    const webhooks = await request.scope.store.listWebhooks();
    return Promise.all(webhooks.map(async (w) => present(w, await request.scope.store.webhookProgress(w.id))));
  });

  app.get('/webhooks/:id', { config, schema: { tags, summary: 'Read a webhook and its progress', params: Params, response: { 200: WebhookOut, ...errorResponses } } }, async (request) => {
    const webhook = await existing(request, request.params.id);
    return present(webhook, await request.scope.store.webhookProgress(webhook.id));
  });

  app.delete(
    '/webhooks/:id',
    { config, schema: { tags, summary: 'Delete a webhook with its queue and delivery log', params: Params, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      if (!(await request.scope.store.deleteWebhook(request.params.id))) throw notFound('webhook', request.params.id);
      await app.webhooks.refresh();
      return reply.status(204).send();
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      config,
      schema: {
        tags,
        summary: 'The delivery attempts of a webhook, newest first',
        params: Params,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.String({ description: '1–1000 (default 100)' })),
            before: Type.Optional(Type.String({ description: 'the attempts before this attempt id (the next page)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(DeliveryOut), ...errorResponses },
      },
    },
    async (request) => {
      const webhook = await existing(request, request.params.id);
      const limit = readCount(request.query.limit, 'limit', 100, 1000);
      const before = request.query.before === undefined ? undefined : readCount(request.query.before, 'before', 0, Number.MAX_SAFE_INTEGER);
      const attempts = await request.scope.store.listDeliveries(webhook.id, before, limit);
      return attempts.map((a) => ({
        id: a.id,
        event_id: a.eventId,
        kind: a.kind,
        attempt: a.attempt,
        at: new Date(a.at).toISOString(),
        status: a.status,
        latency_ms: Math.round(a.latencyMs),
        error: a.error,
        outcome: a.outcome,
      }));
    },
  );

  app.post(
    '/webhooks/:id/replay',
    {
      config,
      schema: {
        tags,
        summary: 'Send the webhook’s events again, from an event id on (within the events retention)',
        params: Params,
        body: Type.Object(
          { from_event_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'the first event to send again', examples: [1] }) },
          { additionalProperties: false, 'x-expected': 'a JSON object with from_event_id' },
        ),
        response: { 202: Type.Object({ from_event_id: Type.Integer() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const webhook = await existing(request, request.params.id);
      await request.scope.store.replayWebhook(webhook.id, request.body.from_event_id);
      app.webhooks.wake(request.scope.partition);
      return reply.status(202).send({ from_event_id: request.body.from_event_id });
    },
  );
}
