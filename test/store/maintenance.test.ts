// The maintenance store contract (purge, export, expiry sweep, auto-complete, erase), on every store,
// on a manual clock.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseServiceStart, parseStateStart, parseTaskStart } from '../../src/domain/events.js';
import { SINGLE_PARTITION } from '../../src/domain/tenancy.js';
import { Sweeper } from '../../src/sweeper.js';
import { manualClock } from '../helpers/clock.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

const clock = manualClock(Date.UTC(2025, 0, 1));
let t: TestStore;
before(async () => {
  t = await openTestStore(clock.now);
});
after(async () => t.destroy());

const at = (minute: number) => Date.UTC(2024, 5, 1, 0, minute);
const start = (body: Record<string, unknown>, minute: number) => t.store.startService(parseServiceStart({ service_type: 'A', ...body, timestamp: new Date(at(minute)).toISOString() }, clock.now()));

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] purge: started before the cut-off (exclusive), by state and owner, in batches`, async () => {
  const { store } = t;
  const anonymous = await start({ contact_key: 'PK' }, 1);
  const identified = await start({ customer_id: 'PC' }, 1);
  const onCutOff = await start({ customer_id: 'PC' }, 2);
  assert.equal(await store.purgeServices('purge.service.started.anonymous', at(2)), 1);
  assert.equal(await store.getService(anonymous), undefined);
  assert.ok(await store.getService(identified));
  assert.equal(await store.purgeServices('purge.service.completed', at(2)), 0);
  assert.equal(await store.purgeServices('purge.service.all', at(2), 1), 1);
  assert.ok(await store.getService(onCutOff), 'started on the cut-off: kept');
});

test('export pages walk by id through the chosen event and state', async () => {
  const { store } = t;
  const ids = [await start({ customer_id: 'EX' }, 10), await start({ customer_id: 'EX' }, 11), await start({ customer_id: 'EX' }, 12)];
  const filter = { from: at(10), to: at(12), events: 'started' as const, state: 'any' as const };
  const first = await store.exportPage(filter, 0n, 1);
  assert.deepEqual(first.map((s) => s.serviceId), [ids[0]]);
  assert.deepEqual((await store.exportPage(filter, first[0].serviceId, 10)).map((s) => s.serviceId), [ids[1]]);
});

test('sweep deletes what has expired by the clock; auto-complete ends idle services with their open states and tasks', async () => {
  const { store } = t;
  const short = await start({ customer_id: 'SW', ttl: 60 }, 20);
  const idle = await start({ customer_id: 'SW', auto_complete_after: 30 }, 20);
  const state = await store.startState(idle, parseStateStart({ state_type: 1 }, clock.now()));
  const task = await store.startTask(idle, parseTaskStart({ state_id: state }, clock.now()));
  clock.advance(29_999);
  assert.equal(await store.autoCompleteIdle(undefined, 100), 0);
  clock.advance(1);
  assert.equal(await store.autoCompleteIdle(undefined, 100), 1);
  assert.equal((await store.getService(idle))?.completedAt, clock.now());
  assert.equal((await store.getService(idle))?.expiresAt, clock.now() + 157_680_000_000, 'the completion is a write: it re-arms the default lifetime (5 years)');
  assert.equal((await store.getState(idle, state))?.completedAt, clock.now());
  assert.equal((await store.getTask(idle, task))?.completedAt, clock.now());
  clock.advance(30_000);
  assert.equal(await store.getService(short), undefined, 'hidden once expired');
  assert.ok((await store.sweepExpired(100)).expired >= 1);
  assert.deepEqual(await t.raw('SELECT service_id FROM services WHERE service_id = ?', short), []);
});

test('the sweep moves up the early bound of an expiry a write re-armed, and reads on past a full batch of them', async () => {
  const { store } = t;
  // writes re-arm a ttl without touching the sweep's index (#17): the index keeps the first expiry
  const rearmed = [await start({ customer_id: 'RA', ttl: 60 }, 40), await start({ customer_id: 'RA', ttl: 60 }, 40), await start({ customer_id: 'RA', ttl: 60 }, 40)];
  clock.advance(10);
  const expiring = await start({ customer_id: 'RA', ttl: 60 }, 40);
  clock.advance(50_000);
  for (const id of rearmed) await store.startTask(id, parseTaskStart({}, clock.now()));
  clock.advance(10_000);
  const sweeper = new Sweeper([{ partition: SINGLE_PARTITION, store }], { autoComplete: false, clock: clock.now, batchSize: 2 });
  // the first batch finds only re-armed services; the sweep goes on to the expired one behind them
  assert.equal((await sweeper.runOnce()).expired, 1);
  assert.deepEqual(await t.raw('SELECT service_id FROM services WHERE service_id = ?', expiring), []);
  for (const id of rearmed) assert.ok(await store.getService(id), 're-armed: kept');
  const [bound] = await t.raw('SELECT expires_at FROM services WHERE service_id = ?', rearmed[0]);
  assert.equal(Number(bound.expires_at), (await store.getService(rearmed[0]))!.expiresAt, 'the bound moved up to the expiry');
  assert.equal((await sweeper.runOnce()).expired, 0, 'their bounds moved up: nothing is due');
  clock.advance(50_000);
  assert.equal((await sweeper.runOnce()).expired, 3);
  for (const id of rearmed) assert.equal(await store.getService(id), undefined);
});

test('erase removes a customer profile and services and records who did it, in one transaction', async () => {
  const { store } = t;
  await store.createProfile({ customerId: 'ER', attributes: {}, extensions: new Map() });
  await start({ customer_id: 'ER' }, 30);
  await start({ customer_id: 'ER' }, 31);
  assert.deepEqual(await store.eraseCustomer('ER', { at: clock.now(), actor: 'dpo', action: 'customer.erase', subject: 'ER' }), { profile: 1, services: 2 });
  assert.deepEqual(await store.listServices({ customerId: 'ER', status: 'all', serviceTypes: [] }), []);
  const [record] = await store.listAudit(1);
  assert.deepEqual({ ...record, id: undefined }, { id: undefined, at: clock.now(), actor: 'dpo', action: 'customer.erase', subject: 'ER', counts: { profile: 1, services: 2 } });
});

test('countPurgeable says what a purge would take; purge reports its progress per batch; vacuum keeps the data', async () => {
  const { store } = t;
  const earlier = await store.countPurgeable('purge.service.all', at(31));
  for (let i = 0; i < 5; i++) await start({ customer_id: `VAC-${i}` }, 30);
  const kept = await start({ customer_id: 'VAC-KEPT' }, 40);
  assert.equal(await store.countPurgeable('purge.service.all', at(31)), earlier + 5);
  assert.equal(await store.countPurgeable('purge.service.all', at(30)), earlier, 'the cut-off is exclusive');
  const progress: number[] = [];
  assert.equal(await store.purgeServices('purge.service.all', at(31), 2, (n) => progress.push(n)), earlier + 5);
  // after each batch of at most 2, the count so far
  assert.equal(progress.at(-1), earlier + 5);
  assert.ok(progress.every((n, i) => n - (progress[i - 1] ?? 0) <= 2 && n >= (progress[i - 1] ?? 0)), progress.join());
  assert.ok(progress.length >= Math.ceil((earlier + 5) / 2), progress.join());
  assert.equal(await store.countPurgeable('purge.service.all', at(31)), 0);
  const { bytesBefore, bytesAfter } = await store.vacuum();
  assert.ok(bytesBefore > 0 && bytesAfter > 0 && bytesAfter <= bytesBefore * 1.5, `${bytesBefore} → ${bytesAfter}`);
  assert.ok(await store.getService(kept));
});
