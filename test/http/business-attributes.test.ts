import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';

const CATALOG = {
  mapping: { 'Service.type': 'ServiceType', 'Service.media_type': 'MediaType', 'Task.media_type': 'MediaType' },
  attributes: [
    { name: 'ServiceType', dbid: 210, display_name: 'Service Type', values: [{ name: 'NewAccount', dbid: 211, display_name: 'New Account' }, { name: 'BillPay', dbid: 212 }] },
    { name: 'MediaType', dbid: 300, values: [{ name: 'voice', dbid: 1001 }, { name: 'chat', dbid: 1006 }] },
  ],
};

describe('business attributes without validation (the default)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ businessAttributes: CATALOG });
  });
  after(async () => t.close());

  test('GET /metadata/business-attributes lists the catalog with StateType built in', async () => {
    const all = (await t.request('GET', '/metadata/business-attributes')).json();
    assert.deepEqual(all.map((a: { name: string }) => a.name), ['ServiceType', 'MediaType', 'StateType']);
    const states = (await t.request('GET', '/metadata/business-attributes/statetype')).json();
    assert.equal(states.values.length, 10);
    assert.equal(states.dbid, 100, 'the built-in attribute has a dbid, as the schema requires');
    assert.deepEqual(states.values[5], { name: 'Offering callback', dbid: 6, display_name: 'Offering callback', description: '' });
    assert.deepEqual(states.cv_attributes, ['State.type']);
    const media = (await t.request('GET', '/metadata/business-attributes?cv-attribute=Task.media_type')).json();
    assert.equal(media.name, 'MediaType');
    assert.deepEqual(media.cv_attributes, ['Service.media_type', 'Task.media_type']);
    assert.equal(media.map_name, false);
    assert.equal((await t.request('GET', '/metadata/business-attributes/Nope')).statusCode, 404);
    assert.equal((await t.request('GET', '/metadata/business-attributes?cv-attribute=Task.type')).statusCode, 404);
  });

  test('values are stored as given when data-validation is off', async () => {
    const id = await startService(t, { customer_id: 'B1', service_type: 999, media_type: 'fax' });
    assert.equal((await t.request('GET', `/services/${id}`)).json().service_type, 999);
  });
});

describe('business attributes with data-validation and map-names', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ businessAttributes: { ...CATALOG, dataValidation: true, mapNames: true } });
  });
  after(async () => t.close());

  test('mapped fields take a dbid or a name; anything else is a 400 naming field and value; nothing written', async () => {
    assert.equal((await t.request('POST', '/services/start', { customer_id: 'B2', service_type: 211, media_type: 'voice' })).statusCode, 201);
    assert.equal((await t.request('POST', '/services/start', { customer_id: 'B2', service_type: 'BillPay' })).statusCode, 201);
    const bad = await t.request('POST', '/services/start', { customer_id: 'B2', service_type: 213 });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /service_type 213 is not a value of business attribute ServiceType/);
    const badMedia = await t.request('POST', '/services/start', { customer_id: 'B2', service_type: 211, media_type: 'pigeon' });
    assert.match(badMedia.json().message, /media_type "pigeon"/);
    assert.equal((await t.request('GET', '/customers/B2/services')).json().length, 2);
    const id = await startService(t, { customer_id: 'B3', service_type: 212 });
    assert.equal((await t.request('POST', `/services/${id}/states/start`, { state_type: 11 })).statusCode, 400, 'StateType is built in and mapped');
    assert.equal((await t.request('POST', `/services/${id}/states/start`, { state_type: 'Offering callback' })).statusCode, 201);
    assert.equal((await t.request('POST', `/services/${id}/tasks/start`, { task_type: 'anything', media_type: 1006 })).statusCode, 201, 'Task.type is not mapped');
  });

  test('map-names shows value names instead of dbids', async () => {
    const id = await startService(t, { customer_id: 'B4', service_type: 211, media_type: 1001 });
    const state = (await t.request('POST', `/services/${id}/states/start`, { state_type: 6 })).json().state_id;
    const got = (await t.request('GET', `/services/${id}?active_states=true`)).json();
    assert.equal(got.service_type, 'NewAccount');
    assert.equal(got.started.media_type, 'voice');
    assert.equal(got.active_states[0].state_type, 'Offering callback');
    assert.equal((await t.request('GET', `/services/${id}/states/${state}`)).json().state_type, 'Offering callback');
    assert.equal((await t.request('GET', '/metadata/business-attributes/ServiceType')).json().map_name, true);
  });

  test('a type filter matches a mapped value stored under either spelling (name or dbid)', async () => {
    const byDbid = await startService(t, { customer_id: 'B5', service_type: 211 });
    const byName = await startService(t, { customer_id: 'B5', service_type: 'NewAccount' });
    await startService(t, { customer_id: 'B5', service_type: 'BillPay' });
    for (const filter of ['NewAccount', '211']) {
      const ids = (await t.request('GET', `/customers/B5/services?service_types=${filter}`)).json().map((s: { service_id: number }) => String(s.service_id));
      assert.deepEqual(ids.sort(), [byDbid, byName].sort(), `service_types=${filter}`);
    }
    await t.request('POST', `/services/${byDbid}/states/start`, { state_type: 6 });
    await t.request('POST', `/services/${byDbid}/states/start`, { state_type: 'Offering callback' });
    await t.request('POST', `/services/${byDbid}/states/start`, { state_type: 1 });
    for (const filter of ['Offering%20callback', '6']) {
      assert.equal((await t.request('GET', `/services/${byDbid}/states?state_types=${filter}`)).json().length, 2, `state_types=${filter}`);
    }
  });
});
