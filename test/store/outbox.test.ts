// The outbox contract, on every store: each committed write appends its events in its transaction,
// ids increase in commit order, a write that fails or is refused appends nothing, an erase forgets
// the customer's events, and the trim keeps what is inside the retention.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseElementEnd, parseExtensionValue, parseServiceAssociation, parseServiceStart, parseStateStart, parseStateTransition, parseTaskStart } from '../../src/domain/events.js';
import { invalid } from '../../src/domain/errors.js';
import type { StoredEvent } from '../../src/domain/event-kinds.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { applyOnly } from '../../src/store/sql/write.js';
import { manualClock } from '../helpers/clock.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

const clock = manualClock(Date.UTC(2025, 0, 1));
let t: TestStore;
let store: SqlStore;
before(async () => {
  t = await openTestStore(clock.now);
  store = t.store as SqlStore;
});
after(async () => t.destroy());

const now = () => clock.now();
/** The events appended after id `after` */
async function since(after: number): Promise<StoredEvent[]> {
  return store.readEvents({}, after, 1000);
}

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] every journey write appends its event, with its owner, in order`, async () => {
  const mark = await store.lastEventId();
  const serviceId = await store.startService(parseServiceStart({ contact_key: 'OB-555', service_type: 'A' }, now()));
  const state = await store.startState(serviceId, parseStateStart({ state_type: 1 }, now()));
  const next = await store.transitionState(serviceId, parseStateTransition({ from: { state_id: state }, to: { state_type: 2 } }, now()));
  await store.putExtensions({ kind: 'state', serviceId, id: next }, parseExtensionValue('Note', { a: 1 }));
  await store.endState(serviceId, next, parseElementEnd({}, now(), 'state'));
  const task = await store.startTask(serviceId, parseTaskStart({ task_type: 'T', state_id: next }, now()));
  await store.endTask(serviceId, task, parseElementEnd({}, now(), 'task'));
  await store.associateService(serviceId, 'OB-1', parseServiceAssociation({}));
  await store.putExtensions({ kind: 'service', serviceId }, parseExtensionValue('Cart', { items: 1 }));
  await store.updateServiceExpiration(serviceId, { lifetimeMs: 60_000 });
  await store.endService(serviceId, parseElementEnd({}, now(), 'service'));
  await store.deleteService(serviceId);
  const events = await since(mark);
  assert.deepEqual(
    events.map((e) => [e.kind, e.serviceId, e.details]),
    [
      ['service.started', serviceId, {}],
      ['state.started', serviceId, { state_id: state }],
      ['state.transition', serviceId, { state_id: next, from_state_id: state }],
      ['state.extension', serviceId, { state_id: next, extension: 'Note' }],
      ['state.ended', serviceId, { state_id: next }],
      ['task.started', serviceId, { task_id: task, state_id: next }],
      ['task.ended', serviceId, { task_id: task }],
      ['service.associated', serviceId, {}],
      ['service.extension', serviceId, { extension: 'Cart' }],
      ['service.expiration', serviceId, {}],
      ['service.ended', serviceId, {}],
      ['service.deleted', serviceId, {}],
    ],
  );
  assert.deepEqual(
    events.map((e) => e.id),
    events.map((_, i) => mark + 1 + i),
    'ids follow each other',
  );
  assert.ok(events.every((e) => e.contactKey === 'OB-555'));
  assert.deepEqual(
    events.map((e) => e.customerId ?? null),
    [...Array(7).fill(null), ...Array(5).fill('OB-1')],
    'each event names the owner the service had when it was written; a deleted service names its owner',
  );
  assert.ok(events.every((e) => e.at === now()));
  assert.equal(await store.lastEventId(), events.at(-1)!.id);
});

test('a refused write and a write that fails after writing append nothing; their batch-mates do', async () => {
  const mark = await store.lastEventId();
  const serviceId = await store.startService(parseServiceStart({ customer_id: 'OB-2', service_type: 'A' }, now()));
  // one batch: a refusal, a failure while applying (the batch reruns with savepoints), two states
  const results = await Promise.allSettled([
    store.startState(serviceId, parseStateStart({ state_type: 'kept-1' }, now())),
    store.submit({
      plan: async () => {
        throw invalid('refused');
      },
      apply: async () => undefined,
      events: () => [{ kind: 'profile.created', customerId: 'never' }],
    }),
    store.submit(
      applyOnly(
        async () => {
          throw new Error('injected failure');
        },
        () => [{ kind: 'profile.created', customerId: 'never' }],
      ),
    ),
    store.startState(serviceId, parseStateStart({ state_type: 'kept-2' }, now())),
    store.endService(424242n, parseElementEnd({}, now(), 'service')),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected'],
  );
  const events = await since(mark);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['service.started', 'state.started', 'state.started'],
  );
  assert.deepEqual(
    events.slice(1).map((e) => e.details.state_id),
    results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value),
  );
  assert.deepEqual(
    events.map((e) => e.id),
    [mark + 1, mark + 2, mark + 3],
    'no id lost to the failed attempt',
  );
});

test('profiles, metadata and maintenance append their events; an erase forgets the customer’s events and says so', async () => {
  const mark = await store.lastEventId();
  await store.createProfile({ customerId: 'OB-3', attributes: {}, extensions: new Map() });
  await store.updateProfile('OB-3', (p) => ({ ...p, attributes: { FirstName: 'Ada' } }));
  await store.createExtensionSchema('services', { name: 'Loyalty', type: 'single-valued', attributes: [{ name: 'tier', type: 'string' } as never], unique: [] });
  await store.deleteExtensionSchema('services', 'Loyalty');
  const erasedService = await store.startService(parseServiceStart({ customer_id: 'OB-3', service_type: 'A' }, now()));
  await store.startState(erasedService, parseStateStart({ state_type: 1 }, now()));
  const erased = await store.eraseCustomer('OB-3', { at: now(), actor: 'test', action: 'customer.erase', subject: 'OB-3' });
  assert.deepEqual(erased, { profile: 1, services: 1 });
  await store.createProfile({ customerId: 'OB-4', attributes: {}, extensions: new Map() });
  await store.deleteProfile('OB-4');
  const old = await store.startService(parseServiceStart({ customer_id: 'OB-5', service_type: 'A', timestamp: '2020-01-01T00:00:00Z' }, now()));
  assert.equal(await store.purgeServices('purge.service.all', Date.UTC(2021, 0, 1)), 1);
  assert.equal(await store.getService(old), undefined);
  const events = await since(mark);
  assert.deepEqual(
    events.map((e) => [e.kind, e.customerId ?? null, e.details]),
    [
      ['metadata.created', null, { entity: 'services extension schema', name: 'Loyalty' }],
      ['metadata.deleted', null, { entity: 'services extension schema', name: 'Loyalty' }],
      ['customer.erased', 'OB-3', { purged: 1 }],
      ['profile.created', 'OB-4', {}],
      ['profile.deleted', 'OB-4', {}],
      ['service.started', 'OB-5', {}],
      ['maintenance.purged', null, { purged: 1 }],
    ],
  );
  assert.equal((await t.raw("SELECT count(*) AS n FROM events WHERE customer_id = 'OB-3'"))[0].n, 1, 'only the erase notice names the customer');
});

test('the trim deletes events older than the cut-off, the oldest first, in bounded batches', async () => {
  const oldest = async () => (await since(0))[0]?.id;
  const first = (await oldest())!;
  const last = await store.lastEventId();
  assert.ok(last - first + 1 >= 20);
  clock.advance(60_000);
  const cutOff = clock.now();
  const older = (await since(0)).length;
  const fresh = await store.startService(parseServiceStart({ customer_id: 'OB-6', service_type: 'A' }, now()));
  // as a server's fold does within a second of each commit (the trim stops at its position: next test)
  await store.foldRollups(1000);
  assert.equal(await store.trimEvents(cutOff, 5), 5);
  assert.equal(await oldest(), first + 5);
  let trimmed = 5;
  for (let n = 5; n === 5; trimmed += n) n = await store.trimEvents(cutOff, 5);
  assert.equal(trimmed, older);
  const kept = await since(0);
  assert.deepEqual(
    kept.map((e) => [e.kind, e.serviceId]),
    [['service.started', fresh]],
  );
  assert.equal(await store.lastEventId(), last + 1, 'ids go on after a trim');
});

test('the trim keeps events whose rollup deltas are not folded yet, and takes them once they are', async () => {
  const unfolded = await store.startService(parseServiceStart({ customer_id: 'OB-8', service_type: 'A' }, now()));
  clock.advance(60_000);
  const cutOff = clock.now();
  for (let n = 5; n === 5; ) n = await store.trimEvents(cutOff, 5);
  assert.deepEqual(
    (await since(0)).map((e) => e.serviceId),
    [unfolded],
    'older than the cut-off, but its service start is not in the rollup rows yet',
  );
  assert.deepEqual(await store.foldRollups(1000), { folded: 1, examined: 1 });
  assert.equal(await store.trimEvents(cutOff, 5), 1);
  assert.deepEqual(await since(0), []);
});

test('a commit that appended events calls the listeners; a read-only turn does not', async () => {
  let calls = 0;
  store.onEventsCommitted(() => calls++);
  await store.startService(parseServiceStart({ customer_id: 'OB-7', service_type: 'A' }, now()));
  assert.equal(calls, 1);
  await store.submit(applyOnly(async () => undefined));
  assert.equal(calls, 1);
});
