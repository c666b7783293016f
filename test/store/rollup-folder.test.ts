// The fold's loop (RollupFolder): a commit woken while a fold runs is folded by another fold after it —
// that fold may have read the events before the commit — and stop() waits for the running fold.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseServiceStart } from '../../src/domain/events.js';
import { RollupFolder } from '../../src/rollup-folder.js';
import type { Store } from '../../src/store/store.js';
import { manualClock } from '../helpers/clock.js';
import { openTestStore, unfoldedEvents, type TestStore } from '../helpers/stores.js';

const clock = manualClock(Date.UTC(2025, 0, 1));
let t: TestStore;
before(async () => {
  t = await openTestStore(clock.now);
});
after(async () => t.destroy());

const unfolded = () => unfoldedEvents(t.raw);
const until = async (condition: () => Promise<boolean> | boolean) => {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline && !(await condition()); ) await new Promise((resolve) => setTimeout(resolve, 5));
};

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] a store woken while its fold runs is folded again after it`, async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let folds = 0;
  // the real store, its first fold held at the gate until a second write has committed
  const held = new Proxy(t.store, {
    get: (target, name, receiver) =>
      name === 'foldRollups'
        ? async (batchSize: number) => {
            if (folds++ === 0) {
              const result = await target.foldRollups(batchSize);
              await gate;
              return result;
            }
            return target.foldRollups(batchSize);
          }
        : Reflect.get(target, name, receiver),
  }) as Store;
  const folder = new RollupFolder({ intervalMs: 0 });
  const start = () => t.store.startService(parseServiceStart({ customer_id: 'FOLDER-1', service_type: 'Billing' }, clock.now()));
  await start();
  folder.wake(held);
  await until(() => folds === 1);
  await start();
  folder.wake(held);
  assert.equal(await unfolded(), 1, 'the second start waits for a fold');
  release();
  await until(async () => (await unfolded()) === 0);
  assert.equal(await unfolded(), 0, 'folded by the fold after the first');
  await folder.stop();
});
