// The time-in-state rollups on every store, through the paths besides requests that end or delete
// states: purge, the expiry sweep, erase and delete count open states as removed; auto-complete
// completes them with their durations.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseServiceStart, parseStateStart } from '../../src/domain/events.js';
import type { StateHourTotals } from '../../src/domain/analytics.js';
import { manualClock } from '../helpers/clock.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

const clock = manualClock(Date.UTC(2026, 0, 1, 10));
let t: TestStore;
before(async () => {
  t = await openTestStore(clock.now);
});
after(async () => t.destroy());

async function totals(stateType: string): Promise<Omit<StateHourTotals, 'bins'> & { bins: number }> {
  const rows = await t.store.stateHourTotals({ fromHour: 0, toHour: 10_000_000, serviceTypes: [], stateTypes: [stateType] });
  assert.ok(rows.length <= 1);
  const r = rows[0] ?? { stateType, started: 0, completed: 0, removed: 0, durationSum: 0, durationMax: 0, bins: [] };
  return { ...r, bins: r.bins.reduce((n, [, c]) => n + c, 0) };
}

async function serviceWithStates(customerId: string, stateType: string, extra: Record<string, unknown> = {}): Promise<bigint> {
  const id = await t.store.startService(parseServiceStart({ customer_id: customerId, service_type: 'A', ...extra }, clock.now()));
  await t.store.startState(id, parseStateStart({ state_type: stateType }, clock.now()));
  const ended = await t.store.startState(id, parseStateStart({ state_type: stateType }, clock.now()));
  clock.advance(5000);
  await t.store.endState(id, ended, { completed: { timestamp: new Date(clock.now()).toISOString() }, extensions: new Map() } as never);
  return id;
}

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] purge, expiry, erase and delete count the open states they take as removed`, async () => {
  await serviceWithStates('SH-P', 'Purged');
  assert.equal(await t.store.purgeServices('purge.service.all', clock.now() + 1), 1);
  assert.deepEqual(await totals('Purged'), { stateType: 'Purged', group: undefined, started: 2, completed: 1, removed: 1, durationSum: 5000, durationMax: 5000, bins: 1 });

  await serviceWithStates('SH-X', 'Expired', { ttl: 60 });
  clock.advance(61_000);
  assert.equal((await t.store.sweepExpired(100)).expired, 1);
  assert.equal((await totals('Expired')).removed, 1);

  await serviceWithStates('SH-E', 'Erased');
  await t.store.eraseCustomer('SH-E', { at: clock.now(), actor: 'test', action: 'customer.erase', subject: 'SH-E' });
  // the erased customer's events go, but not the deltas they carried (erase folds them first)
  const erased = await totals('Erased');
  assert.deepEqual([erased.started, erased.completed, erased.removed, erased.bins], [2, 1, 1, 1]);

  const id = await serviceWithStates('SH-D', 'Deleted');
  await t.store.deleteService(id);
  assert.deepEqual([(await totals('Deleted')).started, (await totals('Deleted')).removed], [2, 1]);
});

test('auto-complete completes open states with their durations', async () => {
  await serviceWithStates('SH-A', 'Idle');
  clock.advance(60_000);
  assert.equal(await t.store.autoCompleteIdle(1000, 100), 1);
  const idle = await totals('Idle');
  assert.deepEqual([idle.started, idle.completed, idle.removed, idle.bins], [2, 2, 0, 2]);
  assert.ok(idle.durationMax >= 65_000, 'the open state ran until auto-complete');
  const services = await t.store.serviceHourTotals({ fromHour: 0, toHour: 10_000_000, serviceTypes: ['A'] });
  const none = services.find((s) => s.disposition === '')!;
  assert.ok(none.completed >= 1, 'the auto-completed service, completed without a disposition');
});

test('deleted open services count as removed in the outcomes', async () => {
  const before = (await t.store.serviceHourTotals({ fromHour: 0, toHour: 10_000_000, serviceTypes: ['Gone'] }))[0]?.removed ?? 0;
  const id = await t.store.startService(parseServiceStart({ customer_id: 'SH-G', service_type: 'Gone' }, clock.now()));
  await t.store.deleteService(id);
  const after = await t.store.serviceHourTotals({ fromHour: 0, toHour: 10_000_000, serviceTypes: ['Gone'] });
  assert.deepEqual([after[0].started, after[0].removed - before], [1, 1]);
});
