// Multi-tenancy over HTTP on the real store: the exact tenant messages, tenant by id or name, and
// isolation between two tenants and between a tenant's groups for every kind of read and write.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { createTestApp, EXC, type TestApp } from '../helpers/app.js';
import { collectEvents } from '../helpers/sse.js';

const TENANTS = [
  { id: 101, name: 'Acme', groups: ['Sales', 'Care'] },
  { id: 102, name: 'Globex' },
];
const ACME = { ContactCenterId: '101' };
const ACME_BY_NAME = { contactcenterid: 'acme' };
const SALES = { ContactCenterId: 'Acme', GroupId: 'Sales' };
const CARE = { ContactCenterId: '101', GroupId: 'care' };
const GLOBEX = { ContactCenterId: 'Globex' };

let t: TestApp;
before(async () => {
  t = await createTestApp({
    tenants: TENANTS,
    businessAttributes: {
      dataValidation: true,
      tenants: {
        Acme: {
          mapping: { 'Service.type': 'ServiceType' },
          attributes: [{ name: 'ServiceType', values: [{ name: 'NewAccount', dbid: 211 }, { name: 'Billing', dbid: 212 }] }],
        },
      },
    },
  });
});
after(async () => t.close());

const as = (headers: Record<string, string>) => ({
  get: (url: string) => t.request('GET', url, undefined, headers),
  post: (url: string, body: unknown = {}) => t.request('POST', url, body, headers),
  put: (url: string, body: unknown = {}) => t.request('PUT', url, body, headers),
  delete: (url: string) => t.request('DELETE', url, undefined, headers),
});

describe('tenant headers', () => {
  test('a missing tenant gets 400 and the documented message', async () => {
    for (const url of ['/services/anonymous/555', '/services/1', '/metadata/business-attributes', '/profiles/X', '/maintenance/audit']) {
      const res = await t.request('GET', url);
      assert.equal(res.statusCode, 400, url);
      assert.deepEqual(res.json(), {
        message: "Invalid tenant specified : no tenant specified in multi-tenant environment. Verify configuration and 'ContactCenterId' HTTP header.",
        exception: `${EXC}ContextServicesExceptionResource`,
      });
    }
    const write = await t.request('POST', '/services/start', { customer_id: 'NOBODY', service_type: 'A' });
    assert.equal(write.statusCode, 400);
  });

  test('an unknown tenant gets 400 and the documented message; an unknown group names the group', async () => {
    const res = await t.request('GET', '/services/anonymous/555', undefined, { ContactCenterId: 'Initech' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      message: "Invalid tenant specified : specified tenant in HTTP header 'ContactCenterId'='Initech' not configured. Verify configuration.",
      exception: `${EXC}ContextServicesExceptionResource`,
    });
    assert.equal((await t.request('GET', '/services/anonymous/555', undefined, { ContactCenterId: '103' })).statusCode, 400);
    const group = await t.request('GET', '/services/anonymous/555', undefined, { ContactCenterId: 'Globex', GroupId: 'Sales' });
    assert.equal(group.statusCode, 400);
    assert.equal(group.json().exception, `${EXC}ContextServicesExceptionResource`);
    assert.match(group.json().message, /'GroupId'='Sales' not configured for tenant 'Globex'/);
  });

  test('health, the OpenAPI document and unknown routes need no tenant', async () => {
    assert.equal((await t.request('GET', '/health')).statusCode, 200);
    assert.equal((await t.request('GET', '/openapi.json')).statusCode, 200);
    assert.equal((await t.request('GET', '/genesys/1/cs/no/such/route')).statusCode, 404);
  });

  test('the tenant by id and by name (any case, any header case) is the same partition', async () => {
    const created = await as(ACME).post('/services/start', { customer_id: 'SAME-1', service_type: 'Billing' });
    assert.equal(created.statusCode, 201);
    const serviceId = created.json().service_id;
    assert.equal((await as(ACME_BY_NAME).get(`/services/${serviceId}`)).json().customer_id, 'SAME-1');
    assert.equal((await as({ CONTACTCENTERID: 'ACME' }).get('/customers/SAME-1/services')).json().length, 1);
  });
});

describe('isolation: another partition sees and touches nothing', () => {
  // Acme's no-group partition holds the data; Globex (another tenant) and Acme/Sales (a group of
  // the same tenant) must see none of it and change none of it.
  const owner = as(ACME);
  const others = [
    ['another tenant', as(GLOBEX)],
    ['a group of the same tenant', as(SALES)],
  ] as const;
  let serviceId: string;
  let anonymousId: string;
  let stateId: number;
  let taskId: number;
  let customerId: string;

  before(async () => {
    assert.equal((await owner.post('/metadata/services/extensions', { name: 'Cart', type: 'single-valued', attributes: [{ name: 'items', type: 'integer' }] })).statusCode, 201);
    assert.equal((await owner.post('/metadata/profiles/extensions', { name: 'Loyalty', type: 'single-valued', attributes: [{ name: 'tier', type: 'string' }] })).statusCode, 201);
    assert.equal((await owner.post('/metadata/identification-keys', { name: 'idName', attributes: ['LastName'] })).statusCode, 201);
    const profile = await owner.post('/profiles', { LastName: 'Isolated', Loyalty: { tier: 'gold' } });
    assert.equal(profile.statusCode, 201, profile.body);
    customerId = profile.json().customer_id;
    const started = await owner.post('/services/start', { customer_id: customerId, service_type: 'NewAccount', Cart: { items: 2 } });
    assert.equal(started.statusCode, 201, started.body);
    serviceId = String(started.json().service_id);
    anonymousId = String((await owner.post('/services/start', { contact_key: 'ISO-555', service_type: 'Billing' })).json().service_id);
    stateId = (await owner.post(`/services/${serviceId}/states/start`, { state_type: 1 })).json().state_id;
    taskId = (await owner.post(`/services/${serviceId}/tasks/start`, { task_type: 'T', state_id: stateId })).json().task_id;
    assert.equal((await owner.post('/maintenance/purge', { limit: '2000-01-01T00:00:00Z', operation: 'purge.service.all' })).statusCode, 200);
  });

  for (const [who, other] of others) {
    test(`${who}: reads by id answer 404, lists are empty`, async () => {
      for (const url of [
        `/services/${serviceId}`,
        `/services/${serviceId}/states`,
        `/services/${serviceId}/states/${stateId}`,
        `/services/${serviceId}/tasks`,
        `/services/${serviceId}/tasks/${taskId}`,
        `/profiles/${customerId}`,
        '/metadata/services/extensions/Cart',
        '/metadata/profiles/extensions/Loyalty',
        '/metadata/identification-keys/idName',
      ]) {
        assert.equal((await other.get(url)).statusCode, 404, url);
      }
      for (const url of [
        `/customers/${customerId}/services`,
        `/customers/${customerId}/services/active`,
        '/services/anonymous/ISO-555',
        '/services/anonymous/ISO-555/active',
        '/metadata/services/extensions',
        '/metadata/profiles/extensions',
        '/metadata/identification-keys',
        '/maintenance/audit',
      ]) {
        assert.deepEqual((await other.get(url)).json(), [], url);
      }
      assert.equal((await other.get('/profiles?LastName=Isolated')).statusCode, 400, 'no idName key here: nothing to identify with');
      assert.deepEqual((await other.get('/maintenance/services/stream?time_from=2000-01-01T00:00:00Z')).json(), []);
      assert.deepEqual((await other.get(`/customers/${customerId}/export`)).json(), { customer_id: customerId, profile: null, services: [] });
    });

    test(`${who}: writes to the partition's ids answer 404 and change nothing`, async () => {
      const attempts: [string, () => Promise<{ statusCode: number; body: string }>][] = [
        ['end service', () => other.post(`/services/${serviceId}/end`)],
        ['associate', () => other.post(`/customers/INTRUDER/services/${anonymousId}`)],
        ['ttl', () => other.put(`/services/${serviceId}`, { ttl: 1 })],
        ['service extension', () => other.put(`/services/${serviceId}/extensions/Cart`, { items: 9 })],
        ['start state', () => other.post(`/services/${serviceId}/states/start`, { state_type: 2 })],
        ['transition', () => other.post(`/services/${serviceId}/states/transition`, { from: { state_id: stateId }, to: { state_type: 2 } })],
        ['end state', () => other.post(`/services/${serviceId}/states/${stateId}/end`)],
        ['state extension', () => other.put(`/services/${serviceId}/states/${stateId}/extensions/Note`, { text: 'x' })],
        ['start task', () => other.post(`/services/${serviceId}/tasks/start`, { task_type: 'X' })],
        ['end task', () => other.post(`/services/${serviceId}/tasks/${taskId}/end`)],
        ['task extension', () => other.put(`/services/${serviceId}/tasks/${taskId}/extensions/Note`, { text: 'x' })],
        ['update profile', () => other.put(`/profiles/${customerId}`, { LastName: 'Changed' })],
        ['delete profile', () => other.delete(`/profiles/${customerId}`)],
        ['delete schema', () => other.delete('/metadata/services/extensions/Cart')],
        ['delete key', () => other.delete('/metadata/identification-keys/idName')],
        ['delete service', () => other.delete(`/services/${serviceId}`)],
      ];
      for (const [what, attempt] of attempts) {
        const res = await attempt();
        assert.equal(res.statusCode, 404, `${what}: ${res.body}`);
      }
      assert.deepEqual((await other.post('/maintenance/purge', { limit: '2100-01-01T00:00:00Z', operation: 'purge.service.all' })).json(), { purged: 0 });
      assert.deepEqual((await other.delete(`/customers/${customerId}`)).json(), { customer_id: customerId, erased: { profile: 0, services: 0 } });

      const service = (await owner.get(`/services/${serviceId}?active_states=true&active_tasks=true&extensions=Cart`)).json();
      assert.equal(service.completed, undefined, 'still active');
      assert.deepEqual(service.Cart, { items: 2 });
      assert.equal(service.active_states.length, 1);
      assert.equal(service.active_tasks.length, 1);
      assert.equal((await owner.get(`/services/${anonymousId}`)).json().customer_id, undefined, 'not associated');
      assert.equal((await owner.get(`/profiles/${customerId}`)).json().LastName, 'Isolated');
      assert.equal((await owner.get('/metadata/services/extensions/Cart')).statusCode, 200);
      assert.equal((await owner.get('/metadata/identification-keys/idName')).statusCode, 200);
      assert.deepEqual((await owner.get('/profiles?LastName=Isolated')).json(), [{ customer_id: customerId }]);
    });
  }

  test('the same names live side by side: each partition has its own schemas, keys, profiles and audit', async () => {
    const care = as(CARE);
    assert.equal((await care.post('/metadata/services/extensions', { name: 'Cart', type: 'multi-valued', attributes: [{ name: 'sku', type: 'string' }] })).statusCode, 201);
    assert.equal((await care.post('/profiles', { customer_id: customerId, LastName: 'Someone else' })).statusCode, 201, 'the customer id is free here');
    assert.equal((await care.get(`/profiles/${customerId}`)).json().LastName, 'Someone else');
    assert.equal((await owner.get(`/profiles/${customerId}`)).json().LastName, 'Isolated');
    assert.equal((await care.get('/metadata/services/extensions/Cart')).json().type, 'multi-valued');
    assert.equal((await owner.get('/metadata/services/extensions/Cart')).json().type, 'single-valued');
    const audit = (await owner.get('/maintenance/audit')).json();
    assert.ok(audit.some((r: { action: string }) => r.action === 'services.purge'), 'the owner sees its own purge');
    assert.deepEqual((await care.get('/maintenance/audit')).json(), []);
  });

  test('business attributes are per tenant: Acme validates its service types, Globex does not', async () => {
    assert.equal((await owner.post('/services/start', { customer_id: 'BA', service_type: 'Unknown' })).statusCode, 400);
    assert.equal((await as(SALES).post('/services/start', { customer_id: 'BA', service_type: 212 })).statusCode, 201, "a group uses its tenant's section");
    assert.equal((await as(GLOBEX).post('/services/start', { customer_id: 'BA', service_type: 'Unknown' })).statusCode, 201);
    const acme = (await owner.get('/metadata/business-attributes')).json().map((a: { name: string }) => a.name);
    const globex = (await as(GLOBEX).get('/metadata/business-attributes')).json().map((a: { name: string }) => a.name);
    assert.ok(acme.includes('ServiceType'));
    assert.ok(!globex.includes('ServiceType'));
    assert.equal((await as(GLOBEX).get('/metadata/business-attributes?cv-attribute=Service.type')).statusCode, 404);
  });
});

test('live events reach subscribers of the same partition only', async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/genesys/1/cs`;
  const start = (headers: Record<string, string>, customer: string) =>
    fetch(`${base}/services/start`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ customer_id: customer, service_type: 212 }) });
  const received = await collectEvents(
    `${base}/events?kinds=service.started`,
    2,
    async () => {
      await start(ACME, 'EV-ACME');
      await start(SALES, 'EV-SALES');
      await start(GLOBEX, 'EV-GLOBEX');
      await start(CARE, 'EV-CARE');
    },
    SALES,
    1500,
  );
  assert.deepEqual(received.map((e) => e.data.customer_id), ['EV-SALES']);
  assert.equal(received[0].data.partition, undefined, 'the partition stays inside the server');
  const refused = await fetch(`${base}/events`);
  assert.equal(refused.status, 400);
});

describe('service ids name one service in the whole deployment', () => {
  test('a client whose GroupId is missing or names another group reaches none of a partition\'s services', async () => {
    const sales = as(SALES);
    const ownId = String((await sales.post('/services/start', { customer_id: 'SALES-CUST', service_type: 'Billing' })).json().service_id);
    const acmeId = String((await as(ACME).post('/services/start', { customer_id: 'ACME-CUST', service_type: 'Billing' })).json().service_id);
    const globexId = String((await as(GLOBEX).post('/services/start', { customer_id: 'GLOBEX-CUST', service_type: 'A' })).json().service_id);
    assert.equal(new Set([ownId, acmeId, globexId]).size, 3, `no two partitions hand out the same id: ${ownId} ${acmeId} ${globexId}`);
    for (const id of [ownId, acmeId, globexId]) assert.ok(Number.isSafeInteger(Number(id)), `${id} is exact as a JavaScript number`);
    // the misconfigured Sales client: no GroupId (Acme's own partition), the other group, another tenant
    for (const headers of [ACME, CARE, GLOBEX]) {
      for (const [method, url, body] of [
        ['POST', `/services/${ownId}/states/start`, { state_type: 'S' }],
        ['POST', `/services/${ownId}/tasks/start`, { task_type: 'T' }],
        ['PUT', `/services/${ownId}/extensions/Cart`, { items: 1 }],
        ['PUT', `/services/${ownId}/extensions/Cart/merge`, { items: 1 }],
        ['PUT', `/services/${ownId}`, { ttl: 60 }],
        ['POST', `/customers/OTHER-CUST/services/${ownId}`, {}],
        ['POST', `/services/${ownId}/end`, {}],
        ['GET', `/services/${ownId}`, undefined],
        ['GET', `/services/${ownId}/states`, undefined],
        ['DELETE', `/services/${ownId}`, undefined],
      ] as const) {
        const res = await t.request(method, url, body, headers);
        assert.equal(res.statusCode, 404, `${JSON.stringify(headers)} ${method} ${url}: ${res.body}`);
        assert.equal(res.json().exception, `${EXC}NotFoundException`);
      }
    }
    const own = (await sales.get(`/services/${ownId}?active_states=true`)).json();
    assert.equal(own.customer_id, 'SALES-CUST', 'still its own customer');
    assert.equal(own.completed, undefined, 'not ended');
    assert.deepEqual(own.active_states ?? [], [], 'no state was started on it');
  });
});
