import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

const COUPON = {
  name: 'couponExtension',
  type: 'single-valued',
  attributes: [
    { name: 'coupon', type: 'string', length: 100, default: 'no discount' },
    { name: 'amount', type: 'integer', mandatory: true },
    { name: 'expires', type: 'datetime' },
  ],
};

describe('extension schemas', () => {
  for (const entity of ['profiles', 'services', 'states', 'tasks']) {
    test(`${entity}: create 201 + Location, read (case-insensitive), list, delete 204 then 404`, async () => {
      const name = `Ext_${entity}`;
      const res = await t.request('POST', `/metadata/${entity}/extensions`, { ...COUPON, name });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(res.json(), { name });
      assert.equal(res.headers.location, `/genesys/1/cs/metadata/${entity}/extensions/${name}`);
      const one = (await t.request('GET', `/metadata/${entity}/extensions/${name.toUpperCase()}`)).json();
      assert.equal(one.name, name);
      assert.equal(one.type, 'single-valued');
      assert.deepEqual(one.attributes[1], { name: 'amount', type: 'integer', mandatory: true, unique: false });
      assert.deepEqual(one.attributes[0], { name: 'coupon', type: 'string', mandatory: false, unique: false, length: 100, default: 'no discount' });
      assert.ok((await t.request('GET', `/metadata/${entity}/extensions`)).json().some((s: { name: string }) => s.name === name));
      assert.equal((await t.request('POST', `/metadata/${entity}/extensions`, { ...COUPON, name: name.toLowerCase() })).statusCode, 400, 'names are case-insensitive');
      assert.equal((await t.request('DELETE', `/metadata/${entity}/extensions/${name.toLowerCase()}`)).statusCode, 204);
      assert.equal((await t.request('DELETE', `/metadata/${entity}/extensions/${name}`)).statusCode, 404);
      assert.equal((await t.request('GET', `/metadata/${entity}/extensions/${name}`)).statusCode, 404);
    });
  }

  const badSchemas: [string, Record<string, unknown>][] = [
    ['name starting with a digit', { ...COUPON, name: '1abc' }],
    ['name over 26 characters', { ...COUPON, name: 'a'.repeat(27) }],
    ['unknown type', { ...COUPON, type: 'many-valued' }],
    ['unknown attribute type', { ...COUPON, attributes: [{ name: 'x', type: 'float' }] }],
    ['default of the wrong type', { ...COUPON, attributes: [{ name: 'x', type: 'integer', default: 'ten' }] }],
    ['unique naming no attribute', { ...COUPON, unique: ['nope'] }],
    ['attribute defined twice', { ...COUPON, attributes: [{ name: 'x', type: 'string' }, { name: 'X', type: 'string' }] }],
    ['no attributes for a service extension', { name: 'Empty', type: 'single-valued' }],
  ];
  for (const [what, body] of badSchemas) {
    test(`400: ${what}`, async () => {
      const res = await t.request('POST', '/metadata/services/extensions', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().exception, `${EXC}ValidationException`);
    });
  }
});

describe('service, state and task extensions with a schema', () => {
  before(async () => {
    assert.equal((await t.request('POST', '/metadata/services/extensions', COUPON)).statusCode, 201);
    const survey = {
      name: 'Survey',
      type: 'multi-valued',
      unique: ['question'],
      attributes: [
        { name: 'question', type: 'string', length: 64, mandatory: true },
        { name: 'score', type: 'integer' },
      ],
    };
    assert.equal((await t.request('POST', '/metadata/tasks/extensions', survey)).statusCode, 201);
    assert.equal((await t.request('POST', '/metadata/states/extensions', { ...survey, name: 'Feedback', type: 'single-valued', unique: [] })).statusCode, 201);
  });

  test('validated and normalized on start; free JSON stays free', async () => {
    const id = await startService(t, { customer_id: 'M1', service_type: 'A', CouponExtension: { amount: '5', expires: '2030-01-01T01:00:00+01:00' }, Free: { any: [1, 'x'] } });
    const got = (await t.request('GET', `/services/${id}?extensions=couponextension,free`)).json();
    assert.deepEqual(got.couponExtension, { coupon: 'no discount', amount: 5, expires: '2030-01-01T00:00:00.000Z' });
    assert.deepEqual(got.Free, { any: [1, 'x'] });
  });

  test('every write path rejects an invalid value with 400 naming the attribute, and writes nothing', async () => {
    const id = await startService(t, { customer_id: 'M2', service_type: 'A' });
    const state = (await t.request('POST', `/services/${id}/states/start`, { state_type: 1 })).json().state_id;
    const task = (await t.request('POST', `/services/${id}/tasks/start`, { task_type: 1 })).json().task_id;
    const writes: [string, string, unknown, RegExp][] = [
      ['POST', '/services/start', { customer_id: 'M2', service_type: 'A', couponExtension: { coupon: 'x' } }, /couponExtension\.amount is mandatory/],
      ['POST', `/services/${id}/end`, { couponExtension: { amount: 'lots' } }, /amount/],
      ['POST', `/customers/M3/services/${id}`, { couponExtension: [{ amount: 1 }] }, /single-valued/],
      ['PUT', `/services/${id}/extensions/couponExtension`, { amount: 1, extra: true }, /extra/],
      ['POST', `/services/${id}/states/start`, { state_type: 1, Feedback: { question: 'q', score: 1.5 } }, /score/],
      ['POST', `/services/${id}/states/transition`, { from: { state_id: state }, to: { state_type: 2 }, Feedback: { score: 1 } }, /question is mandatory/],
      ['POST', `/services/${id}/states/${state}/end`, { Feedback: 'text' }, /Feedback/],
      ['PUT', `/services/${id}/states/${state}/extensions/feedback`, { question: 'x'.repeat(65) }, /question/],
      ['POST', `/services/${id}/tasks/start`, { Survey: [{ question: 'a' }, { question: 'a' }] }, /unique/],
      ['POST', `/services/${id}/tasks/${task}/end`, { Survey: { question: 'a' } }, /multi-valued/],
      ['PUT', `/services/${id}/tasks/${task}/extensions/Survey`, [{ score: 1 }], /question is mandatory/],
    ];
    const snapshot = async () =>
      JSON.stringify([
        (await t.request('GET', `/services/${id}?extensions=*&active_states=true&active_tasks=true&completed_states=true&completed_tasks=true`)).json(),
        (await t.request('GET', '/customers/M2/services')).json().length,
        (await t.request('GET', '/customers/M3/services')).json().length,
      ]);
    const before = await snapshot();
    for (const [method, path, body, message] of writes) {
      const res = await t.request(method, path, body);
      assert.equal(res.statusCode, 400, `${method} ${path}: ${res.body}`);
      assert.match(res.json().message, message, `${method} ${path}`);
    }
    assert.equal(await snapshot(), before);
    // and valid values pass on the same paths
    assert.equal((await t.request('PUT', `/services/${id}/tasks/${task}/extensions/survey`, [{ question: 'a', score: '3' }, { question: 'b' }])).statusCode, 200);
    assert.deepEqual((await t.request('GET', `/services/${id}/tasks/${task}?extensions=Survey`)).json().Survey, [{ question: 'a', score: 3 }, { question: 'b' }]);
  });

  test('schema changes are online: deleting a schema makes the extension free JSON again', async () => {
    await t.request('POST', '/metadata/tasks/extensions', { name: 'Temp', type: 'single-valued', attributes: [{ name: 'a', type: 'integer' }] });
    const id = await startService(t, { customer_id: 'M4', service_type: 'A' });
    assert.equal((await t.request('POST', `/services/${id}/tasks/start`, { Temp: { a: 'x' } })).statusCode, 400);
    assert.equal((await t.request('DELETE', '/metadata/tasks/extensions/temp')).statusCode, 204);
    assert.equal((await t.request('POST', `/services/${id}/tasks/start`, { Temp: { a: 'x' } })).statusCode, 201);
  });
});

describe('identification keys', () => {
  before(async () => {
    await t.request('POST', '/metadata/profiles/extensions', {
      name: 'Contact',
      type: 'multi-valued',
      unique: ['phone'],
      attributes: [
        { name: 'phone', type: 'string', mandatory: true },
        { name: 'ext', type: 'integer' },
      ],
    });
  });

  test('create 201 + Location; list shows extension attributes qualified; delete 204 then 404', async () => {
    const res = await t.request('POST', '/metadata/identification-keys', { name: 'idContact', source: 'contact', attributes: ['phone', 'ext'] });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers.location, '/genesys/1/cs/metadata/identification-keys/idContact');
    assert.deepEqual((await t.request('GET', '/metadata/identification-keys/IDCONTACT')).json(), {
      name: 'idContact',
      attributes: ['Contact.phone', 'Contact.ext'],
      source: 'Contact',
    });
    assert.equal((await t.request('POST', '/metadata/identification-keys', { name: 'idcontact', attributes: ['LastName'] })).statusCode, 400);
    assert.equal((await t.request('DELETE', '/metadata/profiles/extensions/Contact')).statusCode, 400, 'a key is built on it');
    assert.equal((await t.request('DELETE', '/metadata/identification-keys/idContact')).statusCode, 204);
    assert.equal((await t.request('DELETE', '/metadata/identification-keys/idContact')).statusCode, 404);
    assert.equal((await t.request('GET', '/metadata/identification-keys/idContact')).statusCode, 404);
  });

  test('bad keys: mixed sources, unknown attribute, unknown extension, empty attributes', async () => {
    for (const body of [
      { name: 'k1', attributes: ['LastName', 'Contact.phone'] },
      { name: 'k2', attributes: ['Shoe'] },
      { name: 'k3', source: 'Nope', attributes: ['x'] },
      { name: 'k4', attributes: [] },
      { name: '4k', attributes: ['LastName'] },
    ]) {
      assert.equal((await t.request('POST', '/metadata/identification-keys', body)).statusCode, 400, JSON.stringify(body));
    }
  });

  test('a key created after the profiles indexes them; a unique key over existing duplicates is refused', async () => {
    const a = (await t.request('POST', '/profiles', { Title: 'Dr', LastName: 'Later' })).json().customer_id;
    await t.request('POST', '/profiles', { Title: 'Dr', LastName: 'Later2' });
    assert.equal((await t.request('POST', '/metadata/identification-keys', { name: 'idTitleUnique', attributes: ['Title'], unique: true })).statusCode, 400);
    assert.equal((await t.request('GET', '/metadata/identification-keys/idTitleUnique')).statusCode, 404, 'nothing was created');
    assert.equal((await t.request('POST', '/metadata/identification-keys', { name: 'idLastName', attributes: ['LastName'] })).statusCode, 201);
    assert.deepEqual((await t.request('GET', '/profiles?LastName=Later')).json(), [{ customer_id: a }]);
  });
});

describe('GET /metadata/profiles', () => {
  test('the core attribute schema', async () => {
    assert.deepEqual((await t.request('GET', '/metadata/profiles')).json(), [
      { name: 'FirstName', type: 'string' },
      { name: 'LastName', type: 'string' },
      { name: 'Title', type: 'string' },
      { name: 'PhoneNumber', type: 'string' },
      { name: 'EmailAddress', type: 'string' },
    ]);
  });
});

describe('server mode', () => {
  test('GET /server/mode answers production; POST accepts the documented bodies and answers as documented', async () => {
    const get = await t.request('GET', '/server/mode');
    assert.equal(get.statusCode, 200);
    assert.equal(get.json().mode, 'production');
    for (const mode of ['Maintenance', 'production', 'MAINTENANCE']) {
      const res = await t.request('POST', '/server/mode', { mode });
      assert.equal(res.statusCode, 200, mode);
      assert.equal(res.headers.location, '/server/status');
      assert.deepEqual(res.json(), { 'server changed': mode.toLowerCase() });
    }
    assert.equal((await t.request('GET', '/server/status')).json().mode, 'production', 'schema changes are online: nothing to switch');
    assert.equal((await t.request('POST', '/metadata/identification-keys', { name: 'idMode', attributes: ['LastName'] })).statusCode, 201, 'keys are created in production mode');
    const bad = await t.request('POST', '/server/mode', { mode: 'holiday' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /mode must be maintenance or production/);
    assert.equal((await t.request('POST', '/server/mode', {})).statusCode, 400);
  });
});
