// The journey store contract (services, states, tasks, extensions): the same tests on every store (CONTEXTD_TEST_STORE picks which).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kindOf } from '../helpers/errors.js';
import {
  parseElementEnd,
  parseExtensionValue,
  parseServiceAssociation,
  parseServiceStart,
  parseStateStart,
  parseStateTransition,
  parseTaskStart,
} from '../../src/domain/events.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

let t: TestStore;
before(async () => {
  t = await openTestStore();
});
after(async () => t.destroy());

const NOW = Date.UTC(2024, 5, 1);

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] start and read back a service with every field, exactly`, async () => {
  const { store } = t;
  const id = await store.startService(
    parseServiceStart(
      {
        customer_id: 'K1',
        contact_key: '555',
        service_type: 9223372036854775807n,
        est_duration: 10,
        session_id: 's',
        interaction_id: 'i',
        application_type: 'app',
        application_id: 3,
        resource_type: 4,
        resource_id: 5,
        media_type: 'voice',
        ttl: 60,
        auto_complete_after: 30,
        Ext: { big: 123456789012345678901n, s: 'x' },
      },
      NOW,
    ),
  );
  assert.equal(typeof id, 'bigint');
  const got = await store.getService(id);
  assert.ok(got);
  assert.equal(got.serviceId, id);
  assert.equal(got.customerId, 'K1');
  assert.equal(got.contactKey, '555');
  assert.equal(got.serviceType, 9223372036854775807n);
  assert.equal(got.estDuration, 10);
  assert.equal(got.startedAt, NOW);
  assert.ok(Math.abs(got.expiresAt! - (Date.now() + 60_000)) < 5000, 'ttl counts from the write');
  assert.deepEqual(got.started, {
    timestamp: '2024-06-01T00:00:00.000Z',
    session_id: 's',
    interaction_id: 'i',
    application_type: 'app',
    application_id: 3,
    resource_type: 4,
    resource_id: 5,
    media_type: 'voice',
    ttl: 60,
    auto_complete_after: 30,
  });
  const extensions = await store.loadExtensions('service', [id]);
  assert.deepEqual(extensions.get(String(id))?.get('ext'), { name: 'Ext', value: { big: 123456789012345678901n, s: 'x' } });
});

test('end: completes once; a second end is a Conflict and changes nothing; unknown is NotFound', async () => {
  const { store } = t;
  const id = await store.startService(parseServiceStart({ customer_id: 'K2', service_type: 'A' }, NOW));
  await store.endService(id, parseElementEnd({ disposition: 'ok', timestamp: '2024-06-01T00:00:01Z' }, NOW, 'service'));
  assert.equal(await kindOf(store.endService(id, parseElementEnd({ disposition: 'no' }, NOW, 'service'))), 'Conflict');
  const got = await store.getService(id);
  assert.equal(got?.disposition, 'ok');
  assert.equal(got?.completedAt, NOW + 1000);
  assert.equal(await kindOf(store.endService(999999999n, parseElementEnd({}, NOW, 'service'))), 'NotFound');
});

test('lists: by customer or anonymous contact key, status, types, time range, paging; oldest first', async () => {
  const { store } = t;
  const ids: bigint[] = [];
  for (const [i, minute] of [3, 1, 2].entries()) {
    ids.push(await store.startService(parseServiceStart({ customer_id: 'K3', service_type: `T${i}`, timestamp: `2024-06-01T00:0${minute}:00Z` }, NOW)));
  }
  // ended after its start (an end before the start is refused)
  await store.endService(ids[0], parseElementEnd({}, Date.UTC(2024, 5, 1, 0, 10), 'service'));
  const list = async (filter: Partial<Parameters<typeof store.listServices>[0]>) =>
    (await store.listServices({ customerId: 'K3', status: 'all', serviceTypes: [], ...filter })).map((s) => s.serviceId);
  assert.deepEqual(await list({}), [ids[1], ids[2], ids[0]]);
  assert.deepEqual(await list({ status: 'active' }), [ids[1], ids[2]]);
  assert.deepEqual(await list({ status: 'completed' }), [ids[0]]);
  assert.deepEqual(await list({ serviceTypes: ['T0', 'T2'] }), [ids[2], ids[0]]);
  assert.deepEqual(await list({ startedFrom: Date.UTC(2024, 5, 1, 0, 2), startedTo: Date.UTC(2024, 5, 1, 0, 3) }), [ids[2]]);
  assert.deepEqual(await list({ limit: 1, offset: 1 }), [ids[2]]);
  const anonymous = await store.startService(parseServiceStart({ contact_key: 'CK3', service_type: 'A' }, NOW));
  assert.deepEqual((await store.listServices({ contactKey: 'CK3', status: 'all', serviceTypes: [] })).map((s) => s.serviceId), [anonymous]);
  await store.associateService(anonymous, 'K3', parseServiceAssociation({ service_type: 'B' }));
  assert.deepEqual(await store.listServices({ contactKey: 'CK3', status: 'all', serviceTypes: [] }), []);
  assert.equal((await store.getService(anonymous))?.serviceType, 'B');
});

test('states and tasks: ids across the store, referenced states checked, transitions atomic', async () => {
  const { store } = t;
  const a = await store.startService(parseServiceStart({ customer_id: 'K4', service_type: 'A' }, NOW));
  const b = await store.startService(parseServiceStart({ customer_id: 'K4', service_type: 'A' }, NOW));
  const s1 = await store.startState(a, parseStateStart({ state_type: 1 }, NOW));
  const s2 = await store.startState(b, parseStateStart({ state_type: 1 }, NOW));
  assert.ok(s2 > s1);
  assert.equal(await kindOf(store.startTask(a, parseTaskStart({ state_id: s2 }, NOW))), 'Validation');
  assert.equal(await kindOf(store.startState(a, parseStateStart({ state_type: 1, previous_state_id: s2 }, NOW))), 'Validation');
  assert.equal(await kindOf(store.startState(123456789n, parseStateStart({ state_type: 1 }, NOW))), 'NotFound');
  const task = await store.startTask(a, parseTaskStart({ state_id: s1, task_type: 'T' }, NOW));
  assert.equal((await store.getTask(a, task))?.stateId, s1);
  assert.equal(await store.getTask(b, task), undefined);

  const before = await store.listStates({ serviceIds: [a], status: 'all', stateTypes: [] });
  assert.equal(await kindOf(store.transitionState(a, parseStateTransition({ from: { state_id: s2 }, to: { state_type: 2 } }, NOW))), 'Validation');
  assert.deepEqual(await store.listStates({ serviceIds: [a], status: 'all', stateTypes: [] }), before);
  const s3 = await store.transitionState(a, parseStateTransition({ from: { state_id: s1, disposition: 'd' }, to: { state_type: 2 } }, NOW));
  assert.equal((await store.getState(a, s1))?.disposition, 'd');
  assert.equal((await store.getState(a, s3))?.started.previous_state_id, s1);
  assert.equal(await kindOf(store.transitionState(a, parseStateTransition({ from: { state_id: s1 }, to: { state_type: 2 } }, NOW))), 'Conflict');
  assert.equal((await store.listStates({ serviceIds: [a], status: 'all', stateTypes: [] })).length, 2);
  assert.deepEqual((await store.listStates({ serviceIds: [a, b], status: 'active', stateTypes: ['2', '1'] })).map((s) => s.stateId), [s2, s3]);
  assert.deepEqual((await store.listTasks({ serviceIds: [a], status: 'active', taskTypes: ['T'], stateId: s1 })).map((x) => x.taskId), [task]);
});

test('extensions: upsert by case-insensitive name; owners checked; delete removes everything', async () => {
  const { store } = t;
  const id = await store.startService(parseServiceStart({ customer_id: 'K5', service_type: 'A' }, NOW));
  const state = await store.startState(id, parseStateStart({ state_type: 1, X: { a: 1 } }, NOW));
  await store.putExtensions({ kind: 'state', serviceId: id, id: state }, parseExtensionValue('x', [1, 2]));
  assert.deepEqual((await store.loadExtensions('state', [state])).get(String(state))?.get('x'), { name: 'x', value: [1, 2] });
  assert.equal(await kindOf(store.putExtensions({ kind: 'task', serviceId: id, id: 424242 }, parseExtensionValue('x', 1))), 'NotFound');
  assert.equal(await kindOf(store.putExtensions({ kind: 'service', serviceId: 424242n }, parseExtensionValue('x', 1))), 'NotFound');
  await store.deleteService(id);
  assert.equal(await store.getService(id), undefined);
  assert.equal(await store.getState(id, state), undefined);
  assert.equal((await store.loadExtensions('state', [state])).size, 0);
  assert.equal(await kindOf(store.deleteService(id)), 'NotFound');
});
