// The example request of every operation in the OpenAPI document, so that /docs "Try it out" works as
// shown on a fresh server: one journey told in order — schemas, a profile, a call that becomes a
// service with states and tasks, the customer found and associated, analytics, a webhook, maintenance,
// then the deletions. Ids are the ones a fresh store hands out (service 1, states 1 and 2, task 1);
// a webhook's id is random, so its example says where to take it from. test/http/openapi-examples.test.ts
// replays the document's examples in this order against a live server: each must answer 2xx.
// The document also declares HTTP Basic (used when cview.use-role is on) and the tenant headers, so
// the docs page can send them.
import { BASE } from './schemas/common.js';

export interface ExampleRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** the OpenAPI path, with {params} */
  path: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

/** What a webhook's {id} shows: the id POST /webhooks answered (the replay test puts that one in). */
export const WEBHOOK_ID_EXAMPLE = 'wh_0123456789abcdef0123456789abcdef';

const CUSTOMER = 'C-1001';
const PHONE = '5550199';
const service = { service_id: '1' };
const api = (method: ExampleRequest['method'], path: string, rest: Omit<ExampleRequest, 'method' | 'path'> = {}): ExampleRequest => ({ method, path: `${BASE}${path}`, ...rest });
const lists = (path: string, params: Record<string, string>, query: Record<string, string>): ExampleRequest[] =>
  ['', '/active', '/completed'].map((suffix) => api('GET', `${path}${suffix}`, { params, query }));
const schemaCalls = (entity: string, body: { name: string } & Record<string, unknown>): ExampleRequest[] => [
  api('POST', `/metadata/${entity}/extensions`, { body }),
  api('GET', `/metadata/${entity}/extensions`),
  api('GET', `/metadata/${entity}/extensions/{name}`, { params: { name: body.name } }),
];

export const EXAMPLE_REQUESTS: readonly ExampleRequest[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/ready' },
  { method: 'GET', path: '/metrics' },
  api('GET', '/server/mode'),
  api('POST', '/server/mode', { body: { mode: 'production' } }),
  api('GET', '/server/status'),
  api('GET', '/server/partitions'),

  // schema changes are online
  api('GET', '/metadata/profiles'),
  ...schemaCalls('profiles', {
    name: 'Phone',
    type: 'multi-valued',
    unique: ['PhoneNumber'],
    attributes: [
      { name: 'PhoneNumber', type: 'string', length: 15, mandatory: true },
      { name: 'description', type: 'string', length: 32 },
    ],
  }),
  api('POST', '/metadata/identification-keys', { body: { name: 'idPhone', source: 'Phone', attributes: ['PhoneNumber'] } }),
  api('GET', '/metadata/identification-keys'),
  api('GET', '/metadata/identification-keys/{name}', { params: { name: 'idPhone' } }),
  ...schemaCalls('services', { name: 'Cart', type: 'single-valued', attributes: [{ name: 'items', type: 'integer' }, { name: 'coupon', type: 'string', length: 16 }] }),
  ...schemaCalls('states', { name: 'Queue', type: 'single-valued', attributes: [{ name: 'queue', type: 'string', length: 32 }] }),
  ...schemaCalls('tasks', { name: 'Survey', type: 'single-valued', attributes: [{ name: 'q1', type: 'integer' }] }),
  api('GET', '/metadata/business-attributes', { query: { 'cv-attribute': 'State.type' } }),
  api('GET', '/metadata/business-attributes/{name}', { params: { name: 'StateType' } }),

  // the customer's profile
  api('POST', '/profiles', { body: { customer_id: CUSTOMER, FirstName: 'Ada', LastName: 'Lovelace', EmailAddress: ['ada@example.org'], Phone: [{ PhoneNumber: PHONE, description: 'mobile' }] } }),
  api('GET', '/profiles/{customer_id}', { params: { customer_id: CUSTOMER }, query: { extensions: 'Phone' } }),
  api('PUT', '/profiles/{customer_id}', { params: { customer_id: CUSTOMER }, body: { FirstName: 'Ada', LastName: 'King' } }),
  api('POST', '/profiles/{customer_id}/extensions', { params: { customer_id: CUSTOMER }, body: { Phone: [{ PhoneNumber: '5550198', description: 'work' }] } }),
  api('PUT', '/profiles/{customer_id}/extensions/{name}/by/unique', { params: { customer_id: CUSTOMER, name: 'Phone' }, body: { PhoneNumber: '5550198', description: 'desk' } }),
  api('PUT', '/profiles/{customer_id}/extensions/{name}/delete/by/unique', { params: { customer_id: CUSTOMER, name: 'Phone' }, body: { PhoneNumber: '5550198' } }),

  // a call arrives from that number: an anonymous service, its states and tasks
  api('POST', '/services/start', { body: { contact_key: PHONE, service_type: 'Billing', media_type: 'voice', interaction_id: 'IX-42', Cart: { items: 2, coupon: 'SPRING' } } }),
  api('GET', '/services/{service_id}', { params: service, query: { active_states: 'true', extensions: 'Cart' } }),
  api('PUT', '/services/{service_id}', { params: service, body: { ttl: 86400 } }),
  api('PUT', '/services/{service_id}/extensions/{name}', { params: { ...service, name: 'Cart' }, body: { items: 3 } }),
  api('PUT', '/services/{service_id}/extensions/{name}/merge', { params: { ...service, name: 'Cart' }, body: { coupon: 'SUMMER' } }),
  ...lists('/services/anonymous/{contact_key}', { contact_key: PHONE }, { active_states: 'true' }),
  api('POST', '/services/{service_id}/states/start', { params: service, body: { state_type: 'Customer identification', Queue: { queue: 'IVR' } } }),
  api('POST', '/services/{service_id}/states/transition', {
    params: service,
    body: { from: { state_id: 1, disposition: 'Identified' }, to: { state_type: 'Waiting for service agent' }, interaction_id: 'IX-42' },
  }),
  api('GET', '/services/{service_id}/states/{state_id}', { params: { ...service, state_id: '1' }, query: { extensions: 'Queue' } }),
  api('PUT', '/services/{service_id}/states/{state_id}/extensions/{name}', { params: { ...service, state_id: '1', name: 'Queue' }, body: { queue: 'Billing' } }),
  api('PUT', '/services/{service_id}/states/{state_id}/extensions/{name}/merge', { params: { ...service, state_id: '1', name: 'Queue' }, body: { queue: 'Billing-2' } }),
  ...lists('/services/{service_id}/states', service, { state_types: 'Waiting for service agent' }),
  api('POST', '/services/{service_id}/tasks/start', { params: service, body: { state_id: 1, task_type: 'CollectPIN', Survey: { q1: 7 } } }),
  api('GET', '/services/{service_id}/tasks/{task_id}', { params: { ...service, task_id: '1' }, query: { extensions: 'Survey' } }),
  api('PUT', '/services/{service_id}/tasks/{task_id}/extensions/{name}', { params: { ...service, task_id: '1', name: 'Survey' }, body: { q1: 9 } }),
  api('PUT', '/services/{service_id}/tasks/{task_id}/extensions/{name}/merge', { params: { ...service, task_id: '1', name: 'Survey' }, body: { q1: 8 } }),
  ...lists('/services/{service_id}/tasks', service, { task_types: 'CollectPIN' }),
  api('POST', '/services/{service_id}/tasks/{task_id}/end', { params: { ...service, task_id: '1' }, body: { disposition: 'PIN ok' } }),

  // the caller is identified by the number and the service associated with the customer
  api('GET', '/profiles', { query: { 'Phone.PhoneNumber': PHONE, include_profile: 'yes' } }),
  api('POST', '/customers/{customer_id}/services/{service_id}', { params: { customer_id: CUSTOMER, ...service }, body: { media_type: 'voice' } }),
  ...lists('/customers/{customer_id}/services', { customer_id: CUSTOMER }, { active_states: 'true', completed_tasks: 'true' }),
  // the number still finds the service once it is associated
  api('GET', '/services/search', { query: { contact_key: PHONE, status: 'active', limit: '20' } }),
  api('GET', '/events', { query: { customer_id: CUSTOMER, kinds: 'state.started,state.ended' } }),

  api('GET', '/analytics/live'),
  api('GET', '/analytics/states', { query: { service_types: 'Billing', group_by: 'media_type' } }),
  api('GET', '/analytics/outcomes', { query: { service_types: 'Billing' } }),
  api('GET', '/analytics/funnel', { query: { service_type: 'Billing', steps: 'Customer identification,Waiting for service agent' } }),

  api('POST', '/webhooks', { body: { url: 'https://receiver.example/contextd', kinds: ['service.started', 'service.ended'], description: 'CRM sync' } }),
  api('GET', '/webhooks'),
  api('GET', '/webhooks/{id}', { params: { id: WEBHOOK_ID_EXAMPLE } }),
  api('GET', '/webhooks/{id}/deliveries', { params: { id: WEBHOOK_ID_EXAMPLE }, query: { limit: '20' } }),
  api('POST', '/webhooks/{id}/replay', { params: { id: WEBHOOK_ID_EXAMPLE }, body: { from_event_id: 1 } }),
  api('DELETE', '/webhooks/{id}', { params: { id: WEBHOOK_ID_EXAMPLE } }),

  // the agent is done
  api('POST', '/services/{service_id}/states/{state_id}/end', { params: { ...service, state_id: '2' }, body: { disposition: 'Answered' } }),
  api('POST', '/services/{service_id}/end', { params: service, body: { disposition: 'Resolved', disposition_desc: 'paid online' } }),

  api('GET', '/maintenance/services/stream', { query: { time_from: '2020-01-01T00:00:00Z', export_content: 'true' } }),
  // a service exported by Genesys Context Services (a text id: it gets a new one, in `remapped`)
  api('POST', '/maintenance/services/import', {
    body: [
      {
        service_id: '17-9c1d2e3f-f001',
        customer_id: CUSTOMER,
        service_type: 'Billing',
        disposition: 'Resolved',
        started: { timestamp: '2024-03-01T10:00:00.000Z', media_type: 'voice' },
        completed: { timestamp: '2024-03-01T10:05:00.000Z' },
        completed_states: [{ state_id: 3, state_type: 'Waiting for agent', started: { timestamp: '2024-03-01T10:00:30.000Z' }, completed: { timestamp: '2024-03-01T10:02:00.000Z' } }],
      },
    ],
  }),
  api('POST', '/maintenance/purge', { body: { operation: 'purge.service.completed', limit: '2020-01-01T00:00:00Z' } }),
  api('GET', '/customers/{customer_id}/export', { params: { customer_id: CUSTOMER } }),
  api('GET', '/maintenance/audit', { query: { limit: '10' } }),

  // and everything goes again
  api('DELETE', '/services/{service_id}', { params: service }),
  api('DELETE', '/metadata/services/extensions/{name}', { params: { name: 'Cart' } }),
  api('DELETE', '/metadata/states/extensions/{name}', { params: { name: 'Queue' } }),
  api('DELETE', '/metadata/tasks/extensions/{name}', { params: { name: 'Survey' } }),
  api('DELETE', '/profiles/{customer_id}', { params: { customer_id: CUSTOMER } }),
  api('DELETE', '/metadata/identification-keys/{name}', { params: { name: 'idPhone' } }),
  api('DELETE', '/metadata/profiles/extensions/{name}', { params: { name: 'Phone' } }),
  api('DELETE', '/customers/{customer_id}', { params: { customer_id: CUSTOMER } }),
];

interface Parameter {
  name: string;
  in: string;
  example?: unknown;
  description?: string;
  schema?: unknown;
  required?: boolean;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  security?: Record<string, string[]>[];
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, unknown>;
}

const TENANT_HEADERS: Parameter[] = [
  { name: 'ContactCenterId', in: 'header', required: false, schema: { type: 'string' }, description: 'multi-tenant mode: the tenant, by id or name (ignored in single-tenant mode)' },
  { name: 'GroupId', in: 'header', required: false, schema: { type: 'string' }, description: "multi-tenant mode: a group of the tenant (its no-group partition when absent)" },
];

/**
 * @fastify/swagger's transformObject: puts each operation's example request into the document (path
 * and query parameters, the JSON body), and declares HTTP Basic and the tenant headers on the API's
 * operations. Query keys no schema names (identification attributes) are added as parameters of
 * their own, so the docs page sends them.
 */
export function withExamples<D>(document: D): D {
  const doc = document as unknown as Document;
  for (const example of EXAMPLE_REQUESTS) {
    const operation = doc.paths[example.path]?.[example.method.toLowerCase()];
    if (!operation) continue;
    const parameters = (operation.parameters ??= []);
    for (const [where, values] of [['path', example.params], ['query', example.query]] as const) {
      for (const [name, value] of Object.entries(values ?? {})) {
        const parameter = parameters.find((p) => p.in === where && p.name === name);
        if (parameter) parameter.example = value;
        else parameters.push({ name, in: where, required: false, schema: { type: 'string' }, example: value, description: 'an identification attribute, as <extension>.<attribute> or a core attribute' });
      }
    }
    const json = operation.requestBody?.content['application/json'];
    if (json && example.body !== undefined) json.example = example.body;
  }
  for (const [path, operations] of Object.entries(doc.paths)) {
    if (!path.startsWith(BASE)) continue;
    for (const operation of Object.values(operations)) {
      operation.parameters = [...(operation.parameters ?? []), ...TENANT_HEADERS];
      // {}: without credentials too (roles off)
      operation.security = [{ basic: [] }, {}];
    }
  }
  doc.components = {
    ...doc.components,
    securitySchemes: { basic: { type: 'http', scheme: 'basic', description: 'with cview.use-role on: a user of the config file (users[]); without it, none is needed' } },
  };
  return document;
}
