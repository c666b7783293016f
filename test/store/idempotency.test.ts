// The idempotency store contract (recorded answers, retention), on every store, on a manual clock.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { manualClock } from '../helpers/clock.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

const clock = manualClock(Date.UTC(2025, 0, 1));
let t: TestStore;
before(async () => {
  t = await openTestStore(clock.now);
});
after(async () => t.destroy());

const answer = (key: string, body: string, createdAt = clock.now()) => ({ key, fingerprint: 'POST /x', status: 201, location: '/x/1', body, createdAt });

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] the first answer for a key stays until it expires; then a new one replaces it`, async () => {
  const { store } = t;
  const DAY = 86_400_000;
  await store.saveIdempotentResponse(answer('k1', 'first'), clock.now() - DAY);
  await store.saveIdempotentResponse(answer('k1', 'second'), clock.now() - DAY);
  assert.equal((await store.getIdempotentResponse('k1', clock.now() - DAY))?.body, 'first');
  assert.deepEqual(await store.getIdempotentResponse('k1', clock.now() - DAY), answer('k1', 'first'));
  clock.advance(DAY);
  // at exactly the retention the record still counts; one millisecond later it has expired
  assert.equal((await store.getIdempotentResponse('k1', clock.now() - DAY))?.body, 'first');
  clock.advance(1);
  assert.equal(await store.getIdempotentResponse('k1', clock.now() - DAY), undefined);
  await store.saveIdempotentResponse(answer('k1', 'third'), clock.now() - DAY);
  assert.equal((await store.getIdempotentResponse('k1', clock.now() - DAY))?.body, 'third');
});

test('the sweep deletes records older than the cut-off, in batches', async () => {
  const { store } = t;
  const old = clock.now();
  for (const key of ['s1', 's2', 's3']) await store.saveIdempotentResponse(answer(key, key), 0);
  clock.advance(10);
  await store.saveIdempotentResponse(answer('s4', 's4'), 0);
  // s1–s3 and the first test's k1 are older than the cut-off
  assert.equal(await store.sweepIdempotentResponses(old + 1, 2), 2);
  assert.equal(await store.sweepIdempotentResponses(old + 1, 2), 2);
  assert.equal(await store.sweepIdempotentResponses(old + 1, 2), 0);
  assert.equal(await store.getIdempotentResponse('k1', 0), undefined);
  assert.equal((await store.getIdempotentResponse('s4', 0))?.body, 's4');
});
