// The relay position and lease contract, on every store, on a manual clock: one holder at a time, a
// lapsed lease changes hands, the old holder's advance is refused, a release hands over at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseServiceStart } from '../../src/domain/events.js';
import { manualClock } from '../helpers/clock.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

const clock = manualClock(Date.UTC(2025, 0, 1));
let t: TestStore;
before(async () => {
  t = await openTestStore(clock.now);
});
after(async () => t.destroy());

const LEASE = 10_000;

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] a relay starts at the newest event; one holder at a time; a lapsed lease changes hands`, async () => {
  const { store } = t;
  await store.startService(parseServiceStart({ customer_id: 'RL', service_type: 'A' }, clock.now()));
  const newest = await store.lastEventId();
  assert.equal(await store.claimRelay('r1', 'node-a', LEASE), newest, 'starts at the newest event');
  assert.equal(await store.claimRelay('r1', 'node-b', LEASE), undefined, 'held by node-a');
  assert.equal(await store.claimRelay('r1', 'node-a', LEASE), newest, 'the holder renews');
  assert.equal(await store.advanceRelay('r1', 'node-a', newest + 5, LEASE), true);
  clock.advance(LEASE - 1);
  assert.equal(await store.claimRelay('r1', 'node-b', LEASE), undefined, 'not lapsed yet');
  clock.advance(2);
  assert.equal(await store.claimRelay('r1', 'node-b', LEASE), newest + 5, 'lapsed: node-b takes over where node-a got to');
  assert.equal(await store.advanceRelay('r1', 'node-a', newest + 9, LEASE), false, 'node-a lost the lease');
  assert.equal(await store.claimRelay('r1', 'node-b', LEASE), newest + 5);
  await store.releaseRelay('r1', 'node-b');
  assert.equal(await store.claimRelay('r1', 'node-a', LEASE), newest + 5, 'released: taken at once');
  assert.equal(await store.claimRelay('r2', 'node-b', LEASE), newest, 'relays are independent');
});
