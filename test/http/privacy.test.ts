import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/domain/access.js';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';

async function seedCustomer(t: TestApp, customerId: string, headers: Record<string, string> = {}) {
  await t.request('POST', '/metadata/profiles/extensions', { name: 'Loyalty', type: 'single-valued', attributes: [{ name: 'tier', type: 'string' }] }, headers);
  assert.equal((await t.request('POST', '/profiles', { customer_id: customerId, FirstName: 'Pat', Loyalty: { tier: 'gold' } }, headers)).statusCode, 201);
  const a = /"service_id":(\d+)/.exec((await t.request('POST', '/services/start', { customer_id: customerId, service_type: 'A', Cart: { n: 1 } }, headers)).body)![1];
  const state = (await t.request('POST', `/services/${a}/states/start`, { state_type: 1, Note: { x: 1 } }, headers)).json().state_id;
  await t.request('POST', `/services/${a}/tasks/start`, { state_id: state, Survey: { q: 1 } }, headers);
  const b = /"service_id":(\d+)/.exec((await t.request('POST', '/services/start', { customer_id: customerId, service_type: 'B' }, headers)).body)![1];
  return { a, b, state };
}

describe('customer export and erase', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  test('export returns the profile with its extensions and every service with states, tasks and extensions', async () => {
    const { a, b } = await seedCustomer(t, 'PRIV-1');
    const res = await t.request('GET', '/customers/PRIV-1/export');
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.deepEqual(doc.profile, { customer_id: 'PRIV-1', FirstName: 'Pat', Loyalty: { tier: 'gold' } });
    assert.deepEqual(doc.services.map((s: { service_id: number }) => String(s.service_id)), [a, b]);
    assert.deepEqual(doc.services[0].Cart, { n: 1 });
    assert.deepEqual(doc.services[0].active_states[0].Note, { x: 1 });
    assert.deepEqual(doc.services[0].active_tasks[0].Survey, { q: 1 });
    const nobody = (await t.request('GET', '/customers/NOBODY/export')).json();
    assert.deepEqual(nobody, { customer_id: 'NOBODY', profile: null, services: [] });
  });

  test('erase removes everything of that customer, in one go, and nothing of others', async () => {
    const mine = await seedCustomer(t, 'PRIV-2');
    const other = await startService(t, { customer_id: 'PRIV-OTHER', service_type: 'A' });
    const res = await t.request('DELETE', '/customers/PRIV-2');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { customer_id: 'PRIV-2', erased: { profile: 1, services: 2 } });
    assert.equal((await t.request('GET', '/profiles/PRIV-2')).statusCode, 404);
    assert.equal((await t.request('GET', `/services/${mine.a}`)).statusCode, 404);
    assert.deepEqual((await t.request('GET', '/customers/PRIV-2/services')).json(), []);
    for (const table of ['states', 'tasks', 'extensions', 'profile_extensions']) {
      const column = table === 'profile_extensions' ? 'customer_id' : 'service_id';
      const value = table === 'profile_extensions' ? 'PRIV-2' : BigInt(mine.a);
      assert.equal(Number((await t.raw(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`, value))[0].n), 0, table);
    }
    assert.equal((await t.request('GET', `/services/${other}`)).statusCode, 200);
    assert.deepEqual((await t.request('DELETE', '/customers/PRIV-2')).json().erased, { profile: 0, services: 0 }, 'erasing again is harmless');
  });

  test('the audit log records exports, erasures and purges, newest first', async () => {
    await t.request('POST', '/maintenance/purge', { limit: '2000-01-01T00:00:00Z', operation: 'purge.service.all' });
    const audit = (await t.request('GET', '/maintenance/audit?limit=4')).json();
    assert.deepEqual(
      audit.map((r: { action: string; subject: string }) => [r.action, r.subject]),
      [
        ['services.purge', 'purge.service.all'],
        ['customer.erase', 'PRIV-2'],
        ['customer.erase', 'PRIV-2'],
        ['customer.export', 'NOBODY'],
      ],
    );
    assert.deepEqual(audit[2].counts, { profile: 1, services: 2 });
    assert.equal(audit[2].actor, 'anonymous');
    assert.match(audit[0].at, /^\d{4}-\d{2}-\d{2}T.*Z$/);
  });

  test('an export of services over HTTP is audited with its count', async () => {
    await t.request('POST', '/services/start', { customer_id: 'AUD-1', service_type: 'A' });
    const exported = await t.request('GET', '/maintenance/services/stream?time_from=2000-01-01T00:00:00Z');
    assert.equal(exported.statusCode, 200);
    const [record] = (await t.request('GET', '/maintenance/audit?limit=1')).json();
    assert.equal(record.action, 'services.export');
    assert.equal(record.subject, 'ids');
    assert.equal(record.counts.services, exported.json().length);
  });
});

describe('with roles on', () => {
  let t: TestApp;
  const basic = (name: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });
  const admin = basic('dpo', 'secret-1');
  const supervisor = basic('sup', 'secret-2');
  before(async () => {
    t = await createTestApp({
      users: [
        { name: 'dpo', password_hash: hashPassword('secret-1'), roles: ['Administrator'] },
        { name: 'sup', password_hash: hashPassword('secret-2'), roles: ['Supervisor'] },
      ],
    });
  });
  after(async () => t.close());

  test('export, erase and the audit log are Administrator-only; the audit names the user', async () => {
    await seedCustomer(t, 'PRIV-R', admin);
    for (const [method, path] of [
      ['GET', '/customers/PRIV-R/export'],
      ['DELETE', '/customers/PRIV-R'],
      ['GET', '/maintenance/audit'],
    ]) {
      assert.equal((await t.request(method, path, undefined, supervisor)).statusCode, 403, `${method} ${path}`);
    }
    assert.equal((await t.request('GET', '/customers/PRIV-R/services', undefined, supervisor)).statusCode, 200, 'ordinary reads stay open to supervisors');
    assert.equal((await t.request('GET', '/customers/PRIV-R/export', undefined, admin)).statusCode, 200);
    assert.equal((await t.request('DELETE', '/customers/PRIV-R', undefined, admin)).statusCode, 200);
    const audit = (await t.request('GET', '/maintenance/audit', undefined, admin)).json();
    assert.deepEqual(audit.map((r: { actor: string; action: string }) => `${r.actor}:${r.action}`), ['dpo:customer.erase', 'dpo:customer.export']);
  });
});
