// The framework floor: Fastify with a JSON body parser and response schemas (serialized by
// fast-json-stringify), the same routes as the scenarios, and nothing else — no hooks, no
// authentication, no scope, no store. The gap between the limit and this row is what the framework
// costs; the gap between this row and contextd is ours.
import Fastify from 'fastify';

const port = Number(process.env.PORT);
const app = Fastify({ logger: false });
const BASE = '/genesys/1/cs';
const service = {
  type: 'object',
  properties: { service_id: { type: 'integer' }, service_type: { type: 'string' }, customer_id: { type: 'string' }, started: { type: 'object', properties: { timestamp: { type: 'string' } } } },
};
const doc = { service_id: 1, service_type: 'A', customer_id: 'c1', started: { timestamp: '2024-01-01T00:00:00.000Z' } };

app.post(`${BASE}/services/start`, { schema: { body: { type: 'object' }, response: { 201: { type: 'object', properties: { service_id: { type: 'integer' } } } } } }, async (_request, reply) =>
  reply.status(201).send({ service_id: 1 }),
);
app.post(`${BASE}/services/:id/end`, { schema: { body: { type: 'object' } } }, async (_request, reply) => reply.status(204).send());
app.get(`${BASE}/services/:id`, { schema: { response: { 200: service } } }, async () => doc);
app.get(`${BASE}/customers/:id/services/active`, { schema: { response: { 200: { type: 'array', items: service } } } }, async () => [doc]);

// the writes on an existing service
const created = (field) => ({ schema: { body: { type: 'object' }, response: { 201: { type: 'object', properties: { [field]: { type: 'integer' } } } } } });
app.post(`${BASE}/services/:id/states/start`, created('state_id'), async (_request, reply) => reply.status(201).send({ state_id: 1 }));
app.post(`${BASE}/services/:id/states/transition`, created('state_id'), async (_request, reply) => reply.status(201).send({ state_id: 1 }));
app.post(`${BASE}/services/:id/tasks/start`, created('task_id'), async (_request, reply) => reply.status(201).send({ task_id: 1 }));
app.post(`${BASE}/services/:id/tasks/:task/end`, { schema: { body: { type: 'object' } } }, async (_request, reply) => reply.status(204).send());

await app.listen({ port, host: '127.0.0.1' });
process.send?.('ready');
