// The live event stream over a real socket: subscribe, act, receive, resume with Last-Event-ID.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { collectEvents } from '../helpers/sse.js';
import { unavailable } from '../../src/domain/errors.js';

let t: TestApp;
let base: string;
before(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/genesys/1/cs`;
});
after(async () => t.close());

/** Opens the stream, runs `act` once the server has greeted, and collects events until `count` arrive (or 5 s pass). */
const collect = (query: string, count: number, act: () => Promise<void>, lastEventId?: string) =>
  collectEvents(`${base}/events?${query}`, count, act, lastEventId ? { 'last-event-id': lastEventId } : {});

const post = (path: string, body: unknown = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.text() }));

test('a node nobody watches reads nothing from the outbox', async () => {
  const store = t.app.scopes.get('')!.store;
  const readEvents = store.readEvents.bind(store);
  let reads = 0;
  store.readEvents = (...args) => (reads++, readEvents(...args));
  try {
    await post('/services/start', { customer_id: 'EV-IDLE', service_type: 'A' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(reads, 0);
  } finally {
    store.readEvents = readEvents;
  }
});

test('a subscriber for a customer receives that customer’s events, in order, and no one else’s', async () => {
  let serviceId = '';
  const events = await collect('customer_id=EV-1', 5, async () => {
    await post('/services/start', { customer_id: 'EV-OTHER', service_type: 'A' });
    serviceId = /"service_id":(\d+)/.exec((await post('/services/start', { customer_id: 'EV-1', service_type: 'A' })).body)![1];
    const state = JSON.parse((await post(`/services/${serviceId}/states/start`, { state_type: 1 })).body).state_id;
    await post(`/services/${serviceId}/states/transition`, { from: { state_id: state }, to: { state_type: 2 } });
    await post(`/services/${serviceId}/tasks/start`, { task_type: 'T' });
    await post(`/services/${serviceId}/end`);
  });
  assert.deepEqual(events.map((e) => e.event), ['service.started', 'state.started', 'state.transition', 'task.started', 'service.ended']);
  assert.ok(events.every((e) => e.data.customer_id === 'EV-1' && e.data.service_id === serviceId));
  assert.equal(events[2].data.from_state_id, events[1].data.state_id);
  const ids = events.map((e) => Number(e.id));
  assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'ids increase');
});

test('every journey write publishes its event, with the element it concerns', async () => {
  const put = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let state = 0;
  let task = 0;
  const events = await collect('customer_id=EV-4', 8, async () => {
    const serviceId = /"service_id":(\d+)/.exec((await post('/services/start', { customer_id: 'EV-4', service_type: 'A' })).body)![1];
    state = JSON.parse((await post(`/services/${serviceId}/states/start`, { state_type: 1 })).body).state_id;
    await put(`/services/${serviceId}/states/${state}/extensions/Note`, { a: 1 });
    await post(`/services/${serviceId}/states/${state}/end`);
    task = JSON.parse((await post(`/services/${serviceId}/tasks/start`, {})).body).task_id;
    await put(`/services/${serviceId}/tasks/${task}/extensions/Note/merge`, { b: 2 });
    await post(`/services/${serviceId}/tasks/${task}/end`);
    await put(`/services/${serviceId}`, { ttl: 600 });
    await fetch(`${base}/services/${serviceId}`, { method: 'DELETE' });
  });
  assert.deepEqual(
    events.map((e) => [e.event, e.data.state_id ?? e.data.task_id ?? null, e.data.extension ?? null]),
    [
      ['service.started', null, null],
      ['state.started', state, null],
      ['state.extension', state, 'Note'],
      ['state.ended', state, null],
      ['task.started', task, null],
      ['task.extension', task, 'Note'],
      ['task.ended', task, null],
      ['service.expiration', null, null],
    ],
  );
  const deleted = await collect('customer_id=EV-5', 2, async () => {
    const serviceId = /"service_id":(\d+)/.exec((await post('/services/start', { customer_id: 'EV-5', service_type: 'A' })).body)![1];
    await fetch(`${base}/services/${serviceId}`, { method: 'DELETE' });
  });
  assert.deepEqual(deleted.map((e) => [e.event, e.data.customer_id]), [['service.started', 'EV-5'], ['service.deleted', 'EV-5']], 'a deleted service names its owner');
});

test('filters by kind and by contact key; an associate reaches the new customer’s subscribers', async () => {
  let serviceId = '';
  const anonymous = await collect('contact_key=EV-555&kinds=service.started,service.extension', 2, async () => {
    serviceId = /"service_id":(\d+)/.exec((await post('/services/start', { contact_key: 'EV-555', service_type: 'A' })).body)![1];
    await post(`/services/${serviceId}/states/start`, { state_type: 1 });
    await fetch(`${base}/services/${serviceId}/extensions/Note`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  });
  assert.deepEqual(anonymous.map((e) => e.event), ['service.started', 'service.extension']);
  assert.equal(anonymous[1].data.extension, 'Note');
  const associated = await collect('customer_id=EV-2', 1, async () => {
    await post(`/customers/EV-2/services/${serviceId}`);
  });
  assert.equal(associated[0].event, 'service.associated');
  assert.equal(associated[0].data.contact_key, 'EV-555');
});

test('Last-Event-ID replays what was missed; unknown kinds are a 400', async () => {
  const first = await collect('customer_id=EV-3', 1, async () => {
    await post('/services/start', { customer_id: 'EV-3', service_type: 'first' });
  });
  // while nobody listens for EV-3
  await post('/services/start', { customer_id: 'EV-3', service_type: 'missed-1' });
  await post('/services/start', { customer_id: 'EV-3', service_type: 'missed-2' });
  const resumed = await collect('customer_id=EV-3', 2, async () => undefined, first[0].id);
  assert.equal(resumed.length, 2);
  assert.ok(resumed.every((e) => Number(e.id) > Number(first[0].id)));
  const bad = await fetch(`${base}/events?kinds=service.exploded`);
  assert.equal(bad.status, 400);
});

test('a store that cannot say where the outbox ends: the stream answers 503 with the usual body and holds nothing', async () => {
  const store = t.app.scopes.get('')!.store;
  const lastEventId = store.lastEventId.bind(store);
  store.lastEventId = () => Promise.reject(unavailable('the database did not answer'));
  try {
    const res = await fetch(`${base}/events?customer_id=EV-DOWN`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { message: string; exception: string };
    assert.match(body.message, /did not answer/);
    assert.ok(body.exception);
    assert.equal(t.app.events.subscriberCount, 0);
  } finally {
    store.lastEventId = lastEventId;
  }
});
