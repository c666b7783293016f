// Idempotency-Key on POST and PUT: a retry gets the first answer, concurrent duplicates act once,
// a reused key with another request is refused, answers are kept per tenant and for the retention.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, EXC, type TestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';

// business time for the app, its stores and its sweeper: the retention is crossed by moving it
const clock = manualClock();
let t: TestApp;
before(async () => {
  t = await createTestApp({ idempotencyRetention: '2s', clock: clock.now });
});
after(async () => t.close());

const startWithKey = (key: string, body: unknown, headers: Record<string, string> = {}) => t.request('POST', '/services/start', body, { 'idempotency-key': key, ...headers });
const servicesOf = async (customer: string) => (await t.request('GET', `/customers/${customer}/services`)).json() as unknown[];

test('a retry with the same key gets the first answer and acts once', async () => {
  const first = await startWithKey('retry-1', { customer_id: 'IDEM-1', service_type: 'A' });
  assert.equal(first.statusCode, 201);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  const again = await startWithKey('retry-1', { customer_id: 'IDEM-1', service_type: 'A' });
  assert.equal(again.statusCode, 201);
  assert.equal(again.body, first.body);
  assert.equal(again.headers.location, first.headers.location);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal((await servicesOf('IDEM-1')).length, 1);
  const other = await startWithKey('retry-2', { customer_id: 'IDEM-1', service_type: 'A' });
  assert.notEqual(other.body, first.body, 'another key acts');
  assert.equal((await servicesOf('IDEM-1')).length, 2);
});

test('concurrent duplicates act once and all get the same answer', async () => {
  const answers = await Promise.all(Array.from({ length: 25 }, () => startWithKey('burst-1', { customer_id: 'IDEM-BURST', service_type: 'A' })));
  assert.ok(answers.every((a) => a.statusCode === 201));
  assert.equal(new Set(answers.map((a) => a.body)).size, 1);
  assert.equal(answers.filter((a) => a.headers['idempotent-replayed'] === 'true').length, 24);
  assert.equal((await servicesOf('IDEM-BURST')).length, 1);
  const serviceId = answers[0].json().service_id;
  const ends = await Promise.all(Array.from({ length: 5 }, () => t.request('POST', `/services/${serviceId}/end`, {}, { 'idempotency-key': 'end-burst-1' })));
  assert.deepEqual(ends.map((e) => e.statusCode), [204, 204, 204, 204, 204], 'the end acts once; the others replay its 204 instead of 409');
});

test('PUT is idempotent too; a key reused for another request gets 422; bad keys get 400', async () => {
  const serviceId = (await startWithKey('put-base', { customer_id: 'IDEM-PUT', service_type: 'A' })).json().service_id;
  const put = (value: unknown) => t.request('PUT', `/services/${serviceId}/extensions/Note`, value, { 'idempotency-key': 'put-1' });
  assert.equal((await put({ text: 'first' })).statusCode, 200);
  const reused = await put({ text: 'second' });
  assert.equal(reused.statusCode, 422);
  assert.equal(reused.json().exception, `${EXC}IdempotencyKeyReusedException`);
  assert.equal((await t.request('GET', `/services/${serviceId}?extensions=Note`)).json().Note.text, 'first');
  const samePathOtherMethod = await t.request('POST', '/services/start', { customer_id: 'IDEM-PUT', service_type: 'A' }, { 'idempotency-key': 'put-1' });
  assert.equal(samePathOtherMethod.statusCode, 422);
  assert.equal((await startWithKey('x'.repeat(256), { customer_id: 'IDEM-PUT', service_type: 'A' })).statusCode, 400);
  assert.equal((await startWithKey('has space', { customer_id: 'IDEM-PUT', service_type: 'A' })).statusCode, 400);
});

test('a refused request is not recorded: its retry is judged afresh', async () => {
  const refused = await startWithKey('fix-1', { customer_id: 'IDEM-FIX' });
  assert.equal(refused.statusCode, 400);
  assert.equal((await startWithKey('fix-1', { customer_id: 'IDEM-FIX' })).statusCode, 400);
  assert.equal((await startWithKey('fix-1', { customer_id: 'IDEM-FIX', service_type: 'A' })).statusCode, 201);
});

test('answers are kept for the retention, then the sweep deletes them and the key acts again', async () => {
  const first = await startWithKey('short-1', { customer_id: 'IDEM-TTL', service_type: 'A' });
  assert.equal((await startWithKey('short-1', { customer_id: 'IDEM-TTL', service_type: 'A' })).body, first.body);
  clock.advance(2000);
  assert.equal((await startWithKey('short-1', { customer_id: 'IDEM-TTL', service_type: 'A' })).body, first.body, 'kept for exactly the retention');
  clock.advance(1);
  const later = await startWithKey('short-1', { customer_id: 'IDEM-TTL', service_type: 'A' });
  assert.equal(later.statusCode, 201);
  assert.notEqual(later.body, first.body);
  assert.equal((await servicesOf('IDEM-TTL')).length, 2);
  clock.advance(2001);
  await t.app.sweeper.runOnce();
  assert.deepEqual(await t.raw("SELECT idem_key FROM idempotency_keys WHERE idem_key LIKE 'short-%'"), []);
});

test('keys are per tenant: the same key in two tenants acts in each', async () => {
  const m = await createTestApp({ tenants: [{ id: 1, name: 'One' }, { id: 2, name: 'Two' }] });
  try {
    const inOne = await m.request('POST', '/services/start', { customer_id: 'SHARED', service_type: 'A' }, { 'idempotency-key': 'k', ContactCenterId: 'One' });
    const inTwo = await m.request('POST', '/services/start', { customer_id: 'SHARED', service_type: 'A' }, { 'idempotency-key': 'k', ContactCenterId: 'Two' });
    assert.equal(inOne.statusCode, 201);
    assert.equal(inTwo.statusCode, 201);
    assert.equal(inTwo.headers['idempotent-replayed'], undefined);
    const replay = await m.request('POST', '/services/start', { customer_id: 'SHARED', service_type: 'A' }, { 'idempotency-key': 'k', ContactCenterId: '2' });
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, inTwo.body);
  } finally {
    await m.close();
  }
});
