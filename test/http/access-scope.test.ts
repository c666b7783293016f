// Roles on routes and users bound to tenants: every API route refuses a user of another tenant; a
// Supervisor cannot reach Administrator-only reads under any spelling the router accepts; failed
// logins are limited per client address and per user name before the password is checked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/domain/access.js';
import { FAILED_LOGINS } from '../../src/http/auth.js';
import { BASE, createTestApp, type TestApp } from '../helpers/app.js';

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
const PASSWORD = 'pass-word';
const TENANTS = [
  { id: 101, name: 'Acme', groups: ['Sales', 'Care'] },
  { id: 102, name: 'Globex' },
];

let t: TestApp;
let now = Date.parse('2026-12-01T00:00:00Z');
before(async () => {
  const hash = hashPassword(PASSWORD);
  t = await createTestApp({
    tenants: TENANTS,
    clock: () => now,
    users: [
      { name: 'acme-admin', password_hash: hash, roles: ['Administrator'], tenants: ['Acme'] },
      { name: 'globex-admin', password_hash: hash, roles: ['Administrator'], tenants: [102] },
      { name: 'sales-admin', password_hash: hash, roles: ['Administrator'], tenants: [{ tenant: 'acme', groups: ['sales'] }] },
      { name: 'acme-sup', password_hash: hash, roles: ['Supervisor'], tenants: ['*'] },
      { name: 'late-admin', password_hash: hash, roles: ['Administrator'], tenants: ['Acme'] },
    ],
  });
});
after(async () => t.close());

const call = (method: string, url: string, user: string, headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
  t.app.inject({ method: method as 'GET', url, remoteAddress, headers: { authorization: basic(user, PASSWORD), 'content-type': 'application/json', ...headers }, payload: method === 'GET' || method === 'DELETE' ? undefined : '{}' });

describe('users bound to tenants', () => {
  test('every API route answers 403 to a user of another tenant, and writes nothing', async () => {
    const started = await call('POST', `${BASE}/services/start`, 'acme-admin', { ContactCenterId: 'Acme' });
    assert.equal(started.statusCode, 400, 'an empty start is refused (but the user was let in)');
    // every route but the one that lists what the caller may use (tested below)
    const routes = t.app.routeTable.filter((r) => r.url.startsWith(BASE) && r.url !== `${BASE}/server/partitions`);
    assert.ok(routes.length > 40, `${routes.length} routes`);
    for (const route of routes) {
      const url = route.url.replace(/:[a-z_]+/g, '1');
      const res = await call(route.method, url, 'globex-admin', { ContactCenterId: 'Acme' });
      assert.equal(res.statusCode, 403, `${route.method} ${route.url}: ${res.body}`);
      assert.equal(res.json().exception, 'java.rmi.AccessException');
      assert.match(res.json().message, /globex-admin may not use tenant Acme/);
    }
    assert.equal((await call('GET', `${BASE}/customers/X/services`, 'globex-admin', { ContactCenterId: 'Globex' })).statusCode, 200, 'its own tenant');
  });

  test('a user granted one group reaches that group only; "*" reaches every partition', async () => {
    assert.equal((await call('GET', `${BASE}/customers/X/services`, 'sales-admin', { ContactCenterId: 'Acme', GroupId: 'Sales' })).statusCode, 200);
    assert.equal((await call('GET', `${BASE}/customers/X/services`, 'sales-admin', { ContactCenterId: 'Acme', GroupId: 'Care' })).statusCode, 403);
    assert.equal((await call('GET', `${BASE}/customers/X/services`, 'sales-admin', { ContactCenterId: 'Acme' })).statusCode, 403, 'not the no-group partition');
    assert.equal((await call('GET', `${BASE}/customers/X/services`, 'acme-admin', { ContactCenterId: 'Acme', GroupId: 'Care' })).statusCode, 200, 'a whole tenant includes its groups');
    for (const headers of [{ ContactCenterId: 'Acme' }, { ContactCenterId: 'Globex' }, { ContactCenterId: '101', GroupId: 'Care' }] as Record<string, string>[]) {
      assert.equal((await call('GET', `${BASE}/customers/X/services`, 'acme-sup', headers)).statusCode, 200, JSON.stringify(headers));
    }
  });
});

describe('GET /server/partitions (the console\'s tenant and group picker)', () => {
  test('lists the partitions the caller may use, without tenant headers; a stranger gets 401', async () => {
    const partitions = async (user: string) => (await call('GET', `${BASE}/server/partitions`, user, {})).json();
    assert.deepEqual(await partitions('sales-admin'), [{ contact_center_id: '101', tenant: 'Acme', group: 'Sales' }]);
    assert.deepEqual(await partitions('globex-admin'), [{ contact_center_id: '102', tenant: 'Globex' }]);
    assert.equal((await partitions('acme-sup')).length, 4, 'Acme, its two groups and Globex');
    const stranger = await t.app.inject({ method: 'GET', url: `${BASE}/server/partitions` });
    assert.equal(stranger.statusCode, 401);
  });
});

describe('Administrator-only reads are declared on the route', () => {
  for (const url of [
    `${BASE}/customers/X/export`,
    `${BASE}/customers/X/export/`,
    `${BASE}/customers/X/%65xport`,
    `${BASE}/customers/X/%65xport/`,
    `${BASE}/maintenance/audit`,
    `${BASE}/maintenance/audit/`,
    `${BASE}/maintenance/%61udit`,
    `${BASE}/maintenance/audit?limit=5`,
  ]) {
    test(`a Supervisor gets 403 for GET ${url}`, async () => {
      const res = await call('GET', url, 'acme-sup', { ContactCenterId: 'Acme' });
      assert.equal(res.statusCode, 403, res.body);
      assert.deepEqual(res.json(), { message: 'Requires permission', exception: 'java.rmi.AccessException' });
      assert.equal((await call('GET', url, 'acme-admin', { ContactCenterId: 'Acme' })).statusCode, 200, 'an Administrator reads it');
    });
  }
});

describe('failed logins are limited before the password is checked', () => {
  const attempt = (user: string, password: string, remoteAddress: string) =>
    t.app.inject({ method: 'GET', url: `${BASE}/customers/X/services`, remoteAddress, headers: { authorization: basic(user, password), ContactCenterId: 'Acme' } });

  test('per client address: after the bound, even the right password gets 429 with Retry-After, until the window passes', async () => {
    for (let i = 0; i < FAILED_LOGINS.max; i++) assert.equal((await attempt(`guess-${i}`, 'wrong', '10.0.0.1')).statusCode, 401);
    const refused = await attempt('late-admin', PASSWORD, '10.0.0.1');
    assert.equal(refused.statusCode, 429, 'answered before the (right) password is checked');
    assert.equal(refused.json().exception, 'com.genesyslab.gsg.services.contextservices.exceptions.TooManyRequestsException');
    assert.equal(refused.headers['retry-after'], String(FAILED_LOGINS.windowMs / 1000));
    assert.equal((await attempt('acme-admin', PASSWORD, '10.0.0.2')).statusCode, 200, 'another address logs in');
    now += FAILED_LOGINS.windowMs;
    assert.equal((await attempt('late-admin', PASSWORD, '10.0.0.1')).statusCode, 200, 'after the window');
  });

  test('per user name: failures from many addresses limit that name only', async () => {
    for (let i = 0; i < FAILED_LOGINS.max; i++) assert.equal((await attempt('globex-admin', 'wrong', `10.1.0.${i}`)).statusCode, 401);
    assert.equal((await attempt('globex-admin', 'wrong', '10.1.1.1')).statusCode, 429);
    assert.equal((await attempt('acme-admin', 'wrong', '10.1.1.1')).statusCode, 401, 'another name is judged');
    now += FAILED_LOGINS.windowMs;
  });

  test('a login verified before stays served from the cache during a storm against its name', async () => {
    assert.equal((await attempt('sales-admin', PASSWORD, '10.2.0.1')).statusCode, 403, 'verified (and refused the tenant)');
    for (let i = 0; i < FAILED_LOGINS.max + 2; i++) await attempt('sales-admin', 'wrong', `10.2.1.${i}`);
    assert.equal((await attempt('sales-admin', PASSWORD, '10.2.0.1')).statusCode, 403, 'not 429: the cached login needs no check');
  });
});
