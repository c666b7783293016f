// GET /services/search: services of every owner, newest first, paged with a signed cursor; a contact
// key finds its services after they were associated with a customer (the console's search box).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString();
const ids = (res: { json: () => { services: { service_id: number }[] } }) => res.json().services.map((s) => String(s.service_id));

test('newest first across owners, filtered by status, walked page by page with next_cursor', async () => {
  const started: string[] = [];
  for (let i = 0; i < 5; i++) started.push(await startService(t, { customer_id: `SEARCH-${i}`, service_type: 'SearchType', timestamp: at(i) }));
  await t.request('POST', `/services/${started[3]}/end`, {});
  const filter = 'service_types=SearchType&status=active';

  const first = await t.request('GET', `/services/search?${filter}&limit=2&active_states=true`);
  assert.equal(first.statusCode, 200);
  assert.deepEqual(ids(first), [started[4], started[2]], 'newest first, the completed one left out');
  assert.equal(first.json().services[0].customer_id, 'SEARCH-4');
  const cursor = first.json().next_cursor;
  assert.equal(typeof cursor, 'string');

  const second = await t.request('GET', `/services/search?${filter}&limit=2&cursor=${encodeURIComponent(cursor)}`);
  assert.deepEqual(ids(second), [started[1], started[0]]);
  assert.equal(second.json().next_cursor, undefined, 'a full last page has no next cursor either');

  const completed = await t.request('GET', '/services/search?service_types=SearchType&status=completed');
  assert.deepEqual(ids(completed), [started[3]]);
  assert.equal(completed.json().next_cursor, undefined, 'a short page is the last');
});

test('a cursor is refused when forged or used with another filter', async () => {
  for (let i = 0; i < 3; i++) await startService(t, { customer_id: 'CURSOR', service_type: 'CursorType', timestamp: at(i) });
  const first = (await t.request('GET', '/services/search?customer_id=CURSOR&limit=1')).json();
  const other = await t.request('GET', `/services/search?customer_id=SOMEONE-ELSE&limit=1&cursor=${encodeURIComponent(first.next_cursor)}`);
  assert.equal(other.statusCode, 400);
  assert.match(other.json().message, /cursor/);
  assert.equal(other.json().exception, `${EXC}ValidationException`);
  const [body, mac] = first.next_cursor.split('.');
  const moved = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), t: 0 })).toString('base64url');
  const forged = await t.request('GET', `/services/search?customer_id=CURSOR&limit=1&cursor=${moved}.${mac}`);
  assert.equal(forged.statusCode, 400);
  for (const bad of ['status=open', 'limit=0', 'cursor=x']) {
    const res = await t.request('GET', `/services/search?${bad}`);
    assert.equal(res.statusCode, 400, bad);
  }
});

test("a contact key finds its services after they were associated (the key is kept and indexed)", async () => {
  const anonymous = await startService(t, { contact_key: '555-0199', service_type: 'Callback', timestamp: at(1) });
  const associated = await startService(t, { contact_key: '555-0199', service_type: 'Billing', timestamp: at(2) });
  assert.equal((await t.request('POST', `/customers/KEPT-1/services/${associated}`, {})).statusCode, 204);

  const found = (await t.request('GET', '/services/search?contact_key=555-0199')).json().services;
  assert.deepEqual(found.map((s: { service_id: number }) => String(s.service_id)), [associated, anonymous]);
  assert.equal(found[0].customer_id, 'KEPT-1');
  assert.equal(found[0].contact_key, '555-0199');
  // the documented anonymous query still answers only the anonymous one
  const anonymousOnly = (await t.request('GET', '/services/anonymous/555-0199')).json();
  assert.deepEqual(anonymousOnly.map((s: { service_id: number }) => String(s.service_id)), [anonymous]);
});
