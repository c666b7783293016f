// GET /services/search by what services hold: extension attributes their schema marks searchable
// (exact values, ranges of numbers and date-times, 64-bit integers exact; on the service, a state or a
// task), kept current by every write that sets an extension; and the disposition, completion time and
// state-type filters. A filter on an attribute that is not searchable is a 400 that says so.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
  const created = [
    await t.request('POST', '/metadata/services/extensions', {
      name: 'Cart',
      type: 'single-valued',
      attributes: [
        { name: 'order_id', type: 'long', searchable: true },
        { name: 'total', type: 'double', searchable: true },
        { name: 'placed', type: 'datetime', searchable: true },
        { name: 'note', type: 'string' },
      ],
    }),
    await t.request('POST', '/metadata/states/extensions', {
      name: 'Callback',
      type: 'multi-valued',
      attributes: [{ name: 'number', type: 'string', searchable: true }],
    }),
  ];
  for (const res of created) assert.equal(res.statusCode, 201, res.body);
});
after(async () => t.close());

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString();
const search = async (query: string) => {
  const res = await t.request('GET', `/services/search?${query}`);
  assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
  return (res.json().services as { service_id: number | string }[]).map((s) => String(s.service_id));
};

test('an exact value, a range, a 64-bit integer exactly, and a value on a state', async () => {
  const small = await startService(t, { customer_id: 'EXT-1', service_type: 'Shop', timestamp: at(1), Cart: { order_id: 4711, total: 12.5, placed: '2026-01-01T09:00:00Z', note: 'gift' } });
  const big = await startService(t, { customer_id: 'EXT-2', service_type: 'Shop', timestamp: at(2), Cart: { order_id: '9007199254740993', total: 30, placed: '2026-01-01T11:00:00+01:00' } });
  const neighbour = await startService(t, { customer_id: 'EXT-3', service_type: 'Shop', timestamp: at(3), Cart: { order_id: '9007199254740992', total: 19.99 } });
  const callback = await startService(t, { customer_id: 'EXT-4', service_type: 'Shop', timestamp: at(4) });
  const state = await t.request('POST', `/services/${callback}/states/start`, { state_type: 'Offering callback', Callback: [{ number: '555-0100' }, { number: '555-0101' }] });
  assert.equal(state.statusCode, 201, state.body);

  assert.deepEqual(await search('ext.Cart.order_id=4711'), [small]);
  assert.deepEqual(await search('ext.cart.ORDER_ID=9007199254740993'), [big], 'names compare case-insensitively; 2^53 + 1 is not 2^53');
  assert.deepEqual(await search('ext.Cart.order_id=9007199254740992'), [neighbour]);
  assert.deepEqual(await search('ext.Cart.total.min=12.5&ext.Cart.total.max=20'), [neighbour, small], 'inclusive, newest first');
  assert.deepEqual(await search('ext.Cart.total.min=20'), [big]);
  assert.deepEqual(await search('ext.Cart.placed.min=2026-01-01T09:30:00Z'), [big], '11:00+01:00 is 10:00Z');
  assert.deepEqual(await search('ext.Callback.number=555-0101'), [callback], 'any record of a multi-valued extension, on a state');
  assert.deepEqual(await search('ext.Callback.number=555-0101&customer_id=EXT-1'), [], 'filters combine');
  assert.deepEqual(await search('ext.Cart.order_id=4712'), []);
});

test('every write that sets an extension replaces its indexed values', async () => {
  const id = await startService(t, { customer_id: 'EXT-5', service_type: 'Shop', timestamp: at(5), Cart: { order_id: 5001, total: 1 } });
  assert.equal((await t.request('PUT', `/services/${id}/extensions/Cart`, { order_id: 5002, total: 1 })).statusCode, 200);
  assert.deepEqual(await search('ext.Cart.order_id=5001'), [], 'the old value is gone');
  assert.deepEqual(await search('ext.Cart.order_id=5002'), [id]);
  assert.equal((await t.request('PUT', `/services/${id}/extensions/Cart/merge`, { order_id: 5003 })).statusCode, 200);
  assert.deepEqual(await search('ext.Cart.order_id=5003&ext.Cart.total=1'), [id], 'a merge keeps the other attributes indexed');
  assert.equal((await t.request('POST', `/services/${id}/end`, { Cart: { order_id: 5004, total: 2 } })).statusCode, 204);
  assert.deepEqual(await search('ext.Cart.order_id=5004&status=completed'), [id], 'completing with the extension');
  assert.equal((await t.request('DELETE', `/services/${id}`)).statusCode, 200);
  assert.deepEqual(await search('ext.Cart.order_id=5004'), []);
});

test('a schema made searchable later indexes the values written before it; deleting it drops them', async () => {
  const id = await startService(t, { customer_id: 'EXT-6', service_type: 'Loyal', timestamp: at(6), Loyalty: { tier: 'gold' } });
  await startService(t, { customer_id: 'EXT-7', service_type: 'Loyal', timestamp: at(7), Loyalty: { tier: 42 } });
  const refused = await t.request('GET', '/services/search?ext.Loyalty.tier=gold');
  assert.equal(refused.statusCode, 400);
  assert.match(refused.json().message, /no service, state or task extension schema is named Loyalty/);

  const schema = { name: 'Loyalty', type: 'single-valued', attributes: [{ name: 'tier', type: 'string', searchable: true }] };
  assert.equal((await t.request('POST', '/metadata/services/extensions', schema)).statusCode, 201);
  assert.equal((await t.request('GET', '/metadata/services/extensions/Loyalty')).json().attributes[0].searchable, true, 'shown on the schema');
  assert.deepEqual(await search('ext.Loyalty.tier=gold'), [id], 'indexed when the schema was made; the value it refuses (42) is left out');

  assert.equal((await t.request('DELETE', '/metadata/services/extensions/Loyalty')).statusCode, 204);
  assert.equal((await t.request('POST', '/metadata/services/extensions', { ...schema, attributes: [{ name: 'tier', type: 'string' }] })).statusCode, 201);
  const notSearchable = await t.request('GET', '/services/search?ext.Loyalty.tier=gold');
  assert.equal(notSearchable.statusCode, 400);
  assert.equal(notSearchable.json().exception, `${EXC}ValidationException`);
  assert.match(notSearchable.json().message, /tier of extension Loyalty is not searchable \(its schema does not mark it searchable: true\)/);
});

test('filters that are not searchable, not attributes, or of the wrong type are 400s that say why', async () => {
  for (const [query, says] of [
    ['ext.Cart.note=gift', /note of extension Cart is not searchable/],
    ['ext.Cart.colour=red', /colour is not an attribute of extension Cart/],
    ['ext.Cart.order_id=abc', /ext\.Cart\.order_id must be a 64-bit integer/],
    ['ext.Cart.placed.max=yesterday', /ext\.Cart\.placed\.max must be an ISO 8601 date-time/],
    ['ext.Callback.number.min=1', /ranges \(\.min, \.max\) apply to numbers, dates and date-times/],
    ['ext.Cart.total.above=1', /ext\.<Extension>\.<attribute>=value/],
    ['ext.Cart=1', /ext\.<Extension>\.<attribute>=value/],
    ['ext.Cart.order_id=1&ext.Cart.order_id=2', /give it once/],
  ] as const) {
    const res = await t.request('GET', `/services/search?${query}`);
    assert.equal(res.statusCode, 400, query);
    assert.match(res.json().message, says, query);
  }
  const profiles = await t.request('POST', '/metadata/profiles/extensions', { name: 'Prefs', type: 'single-valued', attributes: [{ name: 'x', type: 'string', searchable: true }] });
  assert.equal(profiles.statusCode, 400);
  assert.match(profiles.json().message, /only service, state and task extensions are searchable/);
});

test('disposition, completion time and a state type passed through; a cursor belongs to its extension filter', async () => {
  const escalated = await startService(t, { customer_id: 'END-1', service_type: 'Billing', timestamp: at(10) });
  const resolved = await startService(t, { customer_id: 'END-2', service_type: 'Billing', timestamp: at(11) });
  await t.request('POST', `/services/${escalated}/states/start`, { state_type: 'Waiting for agent', timestamp: at(12) });
  await t.request('POST', `/services/${escalated}/end`, { disposition: 'Escalated', timestamp: at(20) });
  await t.request('POST', `/services/${resolved}/end`, { disposition: 'Resolved', timestamp: at(30) });

  assert.deepEqual(await search('service_types=Billing&dispositions=Escalated'), [escalated]);
  assert.deepEqual(await search('service_types=Billing&dispositions=Escalated,Resolved'), [resolved, escalated]);
  assert.deepEqual(await search(`service_types=Billing&completed_from=${at(25)}`), [resolved]);
  assert.deepEqual(await search(`service_types=Billing&completed_to=${at(25)}`), [escalated]);
  assert.deepEqual(await search('service_types=Billing&state_types=Waiting for agent'), [escalated]);

  for (let i = 0; i < 3; i++) await startService(t, { customer_id: `PAGE-${i}`, service_type: 'Shop', timestamp: at(40 + i), Cart: { order_id: 777, total: i } });
  const first = (await t.request('GET', '/services/search?ext.Cart.order_id=777&limit=2')).json();
  assert.equal(first.services.length, 2);
  const next = await t.request('GET', `/services/search?ext.Cart.order_id=777&limit=2&cursor=${encodeURIComponent(first.next_cursor)}`);
  assert.equal(next.json().services.length, 1);
  const moved = await t.request('GET', `/services/search?ext.Cart.order_id=778&limit=2&cursor=${encodeURIComponent(first.next_cursor)}`);
  assert.equal(moved.statusCode, 400, 'the cursor was made for order 777');
});
