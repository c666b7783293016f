// The outbox relayed to a real NATS JetStream (127.0.0.1:4222, or CONTEXTD_TEST_NATS_URL): every
// committed event is in the stream once, in outbox order, on its subject, with its message id; a
// page published again (a crash between publishing and recording it) leaves one copy of each event.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { parseStateStart } from '../../src/domain/events.js';
import { messageIdOf, subjectOf } from '../../src/app/nats.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { NATS_SKIP, NATS_URL, streamMessages, waitFor } from '../helpers/nats.js';

const id = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const stream = `CONTEXTD_TEST_${id}`;
const prefix = `contextd_test_${id}`;
let t: TestApp;
let nc: NatsConnection;
let jsm: JetStreamManager;
before(async () => {
  if (NATS_SKIP) return;
  nc = await connect({ servers: NATS_URL });
  jsm = await nc.jetstreamManager();
  t = await createTestApp({ nats: { url: NATS_URL, stream, subjectPrefix: prefix } });
  t.app.relay!.start();
  // the relay starts at the newest event when it first runs: wait until it has, before writing
  await waitFor(
    () => t.raw("SELECT last_id FROM event_relays WHERE relay = 'nats'"),
    (rows) => rows.length === 1,
  );
});
after(async () => {
  if (NATS_SKIP) return;
  await t.close();
  await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
});

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] every committed event reaches the stream once, in order, on <prefix>.<tenant>.<group>.<kind>`, { skip: NATS_SKIP }, async () => {
  const started = await t.request('POST', '/services/start', { customer_id: 'NATS-1', service_type: 'A' });
  assert.equal(started.statusCode, 201);
  const serviceId = started.json().service_id;
  const state = (await t.request('POST', `/services/${serviceId}/states/start`, { state_type: 1 })).json().state_id;
  assert.equal((await t.request('POST', `/services/${serviceId}/end`)).statusCode, 204);
  const last = await t.store.lastEventId();
  const messages = await waitFor(() => streamMessages(jsm, stream), (m) => m.length >= last);
  assert.deepEqual(
    messages.map((m) => [m.subject, m.msgId, m.data.kind]),
    [
      [`${prefix}._._.service.started`, `_:${last - 2}`, 'service.started'],
      [`${prefix}._._.state.started`, `_:${last - 1}`, 'state.started'],
      [`${prefix}._._.service.ended`, `_:${last}`, 'service.ended'],
    ],
  );
  assert.equal(messages[1].data.state_id, state);
  assert.equal(messages[1].data.customer_id, 'NATS-1');
  assert.equal(messages[1].data.service_id, String(serviceId));
});

test('a page published again after a crash leaves exactly one copy of each event', { skip: NATS_SKIP }, async () => {
  const scope = [...t.app.scopes.values()][0];
  const serviceId = (await t.request('POST', '/services/start', { customer_id: 'NATS-2', service_type: 'A' })).json().service_id;
  // many events at once: several pages
  await Promise.all(Array.from({ length: 1200 }, (_, i) => scope.store.startState(BigInt(serviceId), parseStateStart({ state_type: i }, Date.now()))));
  const last = await t.store.lastEventId();
  await waitFor(() => streamMessages(jsm, stream), (m) => m.length >= last, 20_000);
  // the relay "forgets" that it published the last 700 events, as a crash before advanceRelay would
  await t.raw("UPDATE event_relays SET last_id = ? WHERE relay = 'nats' RETURNING last_id", last - 700);
  t.app.relay!.wake(scope.partition);
  await waitFor(
    () => t.raw("SELECT last_id FROM event_relays WHERE relay = 'nats'"),
    (rows) => Number(rows[0].last_id) === last,
  );
  const messages = await streamMessages(jsm, stream);
  assert.equal(messages.length, last, 'one message per event');
  assert.deepEqual(
    messages.map((m) => m.msgId),
    Array.from({ length: last }, (_, i) => `_:${i + 1}`),
    'in outbox order',
  );
});

test('subjects name the tenant and group as tokens; message ids name the partition', () => {
  const partition = { key: '101/Sales.EU', tenant: { id: 101, name: 'Acme Corp' }, group: 'Sales.EU' };
  assert.equal(subjectOf('contextd', partition, 'state.started'), 'contextd.Acme_Corp.Sales_EU.state.started');
  assert.equal(subjectOf('contextd', { key: '101', tenant: { id: 101, name: 'Acme' } }, 'service.ended'), 'contextd.Acme._.service.ended');
  assert.equal(messageIdOf(partition, { id: 42, at: 0, kind: 'state.started', details: {} }), '101/Sales.EU:42');
});
