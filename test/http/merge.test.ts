// Merge Extension Data (PUT …/extensions/{name}/merge) on services, states and tasks: the body's keys
// are added or replace the stored ones; a multi-valued or scalar extension is refused and unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
let serviceId: string;
let stateId: number;
let taskId: number;
before(async () => {
  t = await createTestApp();
  serviceId = await startService(t, { customer_id: 'MERGE', service_type: 'A' });
  stateId = (await t.request('POST', `/services/${serviceId}/states/start`, { state_type: 'S' })).json().state_id;
  taskId = (await t.request('POST', `/services/${serviceId}/tasks/start`, { task_type: 'T' })).json().task_id;
});
after(async () => t.close());

const owners = () => [
  ['service', `/services/${serviceId}`, `/services/${serviceId}`],
  ['state', `/services/${serviceId}/states/${stateId}`, `/services/${serviceId}/states/${stateId}`],
  ['task', `/services/${serviceId}/tasks/${taskId}`, `/services/${serviceId}/tasks/${taskId}`],
];

describe('merge', () => {
  for (const kind of ['service', 'state', 'task']) {
    test(`${kind}: keys are added or replaced, others stay; a missing extension is created`, async () => {
      const [, base, read] = owners().find(([k]) => k === kind)!;
      assert.equal((await t.request('PUT', `${base}/extensions/Cart`, { items: 1, total: 10, currency: 'EUR' })).statusCode, 200);
      const merged = await t.request('PUT', `${base}/extensions/cart/merge`, { total: 25, coupon: 'X1' });
      assert.equal(merged.statusCode, 200, merged.body);
      const got = (await t.request('GET', `${read}?extensions=Cart`)).json();
      assert.deepEqual(got.cart ?? got.Cart, { items: 1, total: 25, currency: 'EUR', coupon: 'X1' });
      assert.equal((await t.request('PUT', `${base}/extensions/Fresh/merge`, { a: 1 })).statusCode, 200);
      assert.deepEqual((await t.request('GET', `${read}?extensions=Fresh`)).json().Fresh, { a: 1 });
    });

    test(`${kind}: a multi-valued or scalar extension, or a body that is no object, is refused with nothing written`, async () => {
      const [, base, read] = owners().find(([k]) => k === kind)!;
      assert.equal((await t.request('PUT', `${base}/extensions/Items`, [{ sku: 1 }, { sku: 2 }])).statusCode, 200);
      const multi = await t.request('PUT', `${base}/extensions/Items/merge`, { sku: 3 });
      assert.equal(multi.statusCode, 400);
      assert.equal(multi.json().exception, `${EXC}ValidationException`);
      assert.match(multi.json().message, /multi-valued/);
      assert.deepEqual((await t.request('GET', `${read}?extensions=Items`)).json().Items, [{ sku: 1 }, { sku: 2 }]);
      assert.equal((await t.request('PUT', `${base}/extensions/Note`, '"plain text"')).statusCode, 200);
      assert.equal((await t.request('PUT', `${base}/extensions/Note/merge`, { a: 1 })).statusCode, 400);
      assert.equal((await t.request('GET', `${read}?extensions=Note`)).json().Note, 'plain text');
      assert.equal((await t.request('PUT', `${base}/extensions/Fresh/merge`, [1, 2])).statusCode, 400, 'an array body');
    });
  }

  test('an unknown service, state or task: 404', async () => {
    assert.equal((await t.request('PUT', '/services/987654321/extensions/Cart/merge', { a: 1 })).statusCode, 404);
    assert.equal((await t.request('PUT', `/services/${serviceId}/states/99999/extensions/Cart/merge`, { a: 1 })).statusCode, 404);
    assert.equal((await t.request('PUT', `/services/${serviceId}/tasks/99999/extensions/Cart/merge`, { a: 1 })).statusCode, 404);
  });

  test('a merged value is validated against the extension schema', async () => {
    const schema = await t.request('POST', '/metadata/services/extensions', { name: 'Typed', type: 'single-valued', attributes: [{ name: 'n', type: 'integer' }, { name: 's', type: 'string' }] });
    assert.equal(schema.statusCode, 201, schema.body);
    assert.equal((await t.request('PUT', `/services/${serviceId}/extensions/Typed`, { n: 1 })).statusCode, 200);
    assert.equal((await t.request('PUT', `/services/${serviceId}/extensions/Typed/merge`, { n: 'not a number' })).statusCode, 400);
    assert.equal((await t.request('PUT', `/services/${serviceId}/extensions/Typed/merge`, { s: 'ok' })).statusCode, 200);
    assert.deepEqual((await t.request('GET', `/services/${serviceId}?extensions=Typed`)).json().Typed, { n: 1, s: 'ok' });
  });
});
