// Batches committing side by side on one PostgreSQL node add their rollup deltas to rows of their own
// group-commit slot (migration 012), before the outbox's counter row: a batch held up on its rollup
// row holds up no other batch of the node. Before, every batch took the counter and then the one
// hot row of its hour and type, so one waiting batch stopped every write.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseServiceStart, parseStateStart } from '../../src/domain/events.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

const AT = Date.UTC(2026, 0, 1, 10, 30);
let t: TestStore;
before(async () => {
  t = await openTestStore();
  assert.equal(t.kind, 'postgres', 'run with CONTEXTD_TEST_STORE=postgres');
});
after(async () => t.destroy());

const waiting = () => t.raw("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO state_hours%'");

test('a batch waiting on its rollup row does not hold up a batch committing beside it', { timeout: 30_000 }, async () => {
  const [first, second] = await Promise.all(['RS-1', 'RS-2'].map((c) => t.store.startService(parseServiceStart({ customer_id: c, service_type: 'A' }, AT))));
  const start = (service: bigint) => t.store.startState(service, parseStateStart({ state_type: 'Waiting', timestamp: new Date(AT).toISOString() }, AT));
  await start(first);
  // another session holds the rows written so far (slot 0's), as a long transaction would
  await t.raw('BEGIN');
  await t.raw('SELECT started FROM state_hours WHERE shard = 0 FOR UPDATE');
  let heldDone = false;
  const held = start(first).then(() => (heldDone = true));
  for (let i = 0; i < 300 && Number((await waiting())[0].n) === 0; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(Number((await waiting())[0].n), 1, 'the first batch waits on its rollup row');

  const beside = await Promise.race([start(second).then(() => 'committed'), new Promise((resolve) => setTimeout(resolve, 5000, 'held up')).then(String)]);
  assert.equal(beside, 'committed');
  assert.equal(heldDone, false);

  await t.raw('ROLLBACK');
  await held;
  const [totals] = await t.store.stateHourTotals({ fromHour: 0, toHour: 10_000_000, serviceTypes: [], stateTypes: ['Waiting'] });
  assert.equal(totals.started, 3, 'the shards add up');
  const shards = await t.raw('SELECT DISTINCT shard FROM state_hours ORDER BY shard');
  assert.deepEqual(shards.map((r) => Number(r.shard)), [0, 1]);
});
