// Security checks that span every route: the tenant walk over the route table, CORS, rate limits.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createTestApp, EXC, type TestApp } from '../helpers/app.js';

const TENANTS = [
  { id: 1, name: 'Owner', groups: ['Team'] },
  { id: 2, name: 'Intruder' },
];
const OWNER = { ContactCenterId: 'Owner' };
const SECRET = 'walk-secret-7d1f';

describe('the route table walk: every API route is tenant-scoped', () => {
  let t: TestApp;
  const ids: Record<string, string> = {};
  before(async () => {
    t = await createTestApp({ tenants: TENANTS });
    const post = (url: string, body: unknown) => t.request('POST', url, body, OWNER);
    assert.equal((await post('/metadata/profiles/extensions', { name: 'Secret', type: 'single-valued', attributes: [{ name: 'v', type: 'string' }] })).statusCode, 201);
    assert.equal((await post('/metadata/services/extensions', { name: 'Walk', type: 'single-valued', attributes: [{ name: 'v', type: 'string' }] })).statusCode, 201);
    assert.equal((await post('/metadata/identification-keys', { name: 'idWalk', attributes: ['LastName'] })).statusCode, 201);
    ids.customer_id = (await post('/profiles', { LastName: SECRET, Secret: { v: SECRET } })).json().customer_id;
    ids.service_id = String((await post('/services/start', { customer_id: ids.customer_id, contact_key: 'WALK', service_type: SECRET, Walk: { v: SECRET } })).json().service_id);
    ids.state_id = String((await post(`/services/${ids.service_id}/states/start`, { state_type: SECRET, Walk: { v: SECRET } })).json().state_id);
    ids.task_id = String((await post(`/services/${ids.service_id}/tasks/start`, { task_type: SECRET, Walk: { v: SECRET } })).json().task_id);
    ids.contact_key = 'WALK';
    ids.name = 'Walk';
  });
  after(async () => t.close());

  // every route but GET /server/partitions, which reads no partition (it lists the caller's grants:
  // test/http/access-scope.test.ts)
  const apiRoutes = () => t.app.routeTable.filter((r) => r.url.startsWith('/genesys/') && !r.url.endsWith('/server/partitions'));
  const fill = (url: string) => url.replace(/:([a-z_]+)/g, (_, name: string) => encodeURIComponent(ids[name] ?? 'x'));

  test('without ContactCenterId, every API route answers the tenant error (none bypasses the tenant check)', async () => {
    assert.ok(apiRoutes().length >= 40);
    for (const route of apiRoutes()) {
      const res = await t.request(route.method, fill(route.url), route.method === 'POST' || route.method === 'PUT' ? {} : undefined);
      assert.equal(res.statusCode, 400, `${route.method} ${route.url}: ${res.body}`);
      assert.equal(res.json().exception, `${EXC}ContextServicesExceptionResource`, `${route.method} ${route.url}`);
    }
  });

  test("another tenant and a group of the same tenant, on every route with the owner's ids, never see the owner's data", async () => {
    const before = (await t.request('GET', `/services/${ids.service_id}?active_states=true&active_tasks=true&extensions=*`, undefined, OWNER)).body;
    for (const headers of [{ ContactCenterId: 'Intruder' }, { ContactCenterId: 'Owner', GroupId: 'Team' }] as Record<string, string>[]) {
      for (const route of apiRoutes()) {
        if (route.url.endsWith('/events')) continue; // a stream: its partitioning is tested in tenancy.test.ts
        const url = fill(route.url) + (route.method === 'GET' ? '?extensions=*&active_states=true&completed_states=true&active_tasks=true&completed_tasks=true&LastName=' + SECRET : '');
        const res = await t.request(route.method, url, route.method === 'POST' || route.method === 'PUT' ? { Walk: { v: 'overwritten' } } : undefined, headers);
        assert.ok(!res.body.includes(SECRET), `${route.method} ${route.url} as ${JSON.stringify(headers)} leaked: ${res.body.slice(0, 300)}`);
        assert.ok(res.statusCode < 500, `${route.method} ${route.url}: ${res.statusCode}`);
      }
    }
    const afterWalk = (await t.request('GET', `/services/${ids.service_id}?active_states=true&active_tasks=true&extensions=*`, undefined, OWNER)).body;
    assert.equal(afterWalk, before, "the owner's service, states, tasks and extensions are untouched");
    assert.equal((await t.request('GET', `/profiles/${ids.customer_id}?extensions=Secret`, undefined, OWNER)).json().Secret.v, SECRET);
  });

  test('route modules reach data only through request.scope (the main store is for /health alone)', () => {
    const dir = new URL('../../src/http/routes/', import.meta.url);
    for (const file of readdirSync(dir)) {
      if (file === 'health.ts') continue;
      assert.doesNotMatch(readFileSync(new URL(file, dir), 'utf8'), /mainStore|app\.scopes/, file);
    }
  });
});

describe('CORS', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ corsWriteOrigins: ['https://desk.example.com'] });
  });
  after(async () => t.close());
  const preflight = (origin: string, method: string) =>
    t.app.inject({ method: 'OPTIONS', url: '/genesys/1/cs/services/start', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } });

  test('reads are open to any origin', async () => {
    const res = await t.request('GET', '/customers/C/services', undefined, { origin: 'https://anywhere.example' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal((await preflight('https://anywhere.example', 'GET')).headers['access-control-allow-origin'], '*');
  });

  test('a request without an Origin is not a cross-origin one: no CORS headers, Vary: Origin for caches', async () => {
    const res = await t.request('GET', '/customers/C/services');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-expose-headers'], undefined);
    assert.match(String(res.headers.vary), /origin/i);
  });

  test('writes only from configured origins: the preflight of any other origin is refused', async () => {
    const trusted = await preflight('https://desk.example.com', 'POST');
    assert.equal(trusted.statusCode, 204);
    assert.equal(trusted.headers['access-control-allow-origin'], 'https://desk.example.com');
    assert.match(String(trusted.headers['access-control-allow-methods']), /POST/);
    assert.equal(trusted.headers['access-control-allow-credentials'], 'true');
    const stranger = await preflight('https://evil.example', 'POST');
    assert.equal(stranger.headers['access-control-allow-origin'], undefined);
    assert.ok(stranger.statusCode >= 400);
    const write = await t.request('POST', '/services/start', { customer_id: 'C', service_type: 'A' }, { origin: 'https://evil.example' });
    assert.equal(write.headers['access-control-allow-origin'], undefined, 'the browser may not read the answer');
  });
});

describe('rate limits', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ tenants: TENANTS, rateLimit: { max: 5, windowMs: 60_000 } });
  });
  after(async () => t.close());

  test("one tenant's storm gets 429 with Retry-After; another tenant and /health are not held back", async () => {
    const storm = await Promise.all(Array.from({ length: 8 }, () => t.request('GET', '/customers/C/services', undefined, OWNER)));
    const limited = storm.filter((r) => r.statusCode === 429);
    assert.equal(storm.filter((r) => r.statusCode === 200).length, 5);
    assert.equal(limited.length, 3);
    assert.ok(Number(limited[0].headers['retry-after']) > 0);
    assert.equal(limited[0].json().exception, `${EXC}TooManyRequestsException`);
    assert.equal((await t.request('GET', '/customers/C/services', undefined, { ContactCenterId: 'Owner', GroupId: 'Team' })).statusCode, 429, 'groups share their tenant budget');
    assert.equal((await t.request('GET', '/customers/C/services', undefined, { ContactCenterId: 'Intruder' })).statusCode, 200);
    assert.equal((await t.request('GET', '/health')).statusCode, 200);
  });
});
