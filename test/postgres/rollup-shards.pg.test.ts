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

// sessions waiting on a lock this test's own session holds (run on that session): other test files' batches do not count
const waiting = async () => Number((await t.raw('SELECT count(*) AS n FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))'))[0].n);

test('a batch waiting on its rollup row does not hold up a batch committing beside it', { timeout: 30_000 }, async () => {
  const [first, second] = await Promise.all(['RS-1', 'RS-2'].map((c) => t.store.startService(parseServiceStart({ customer_id: c, service_type: 'A' }, AT))));
  const start = (service: bigint) => t.store.startState(service, parseStateStart({ state_type: 'Waiting', timestamp: new Date(AT).toISOString() }, AT));
  await start(first);
  // another session holds the rows written so far (slot 0's), as a long transaction would
  await t.raw('BEGIN');
  let held: Promise<unknown> | undefined;
  try {
    await t.raw('SELECT started FROM state_hours WHERE shard = 0 FOR UPDATE');
    let heldDone = false;
    held = start(first).then(() => (heldDone = true));
    // until the batch reaches the row (a busy machine takes a while): a condition, not a fixed sleep
    for (const until = Date.now() + 10_000; Date.now() < until && (await waiting()) === 0; ) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(await waiting(), 1, 'the first batch waits on its rollup row');

    const beside = await Promise.race([start(second).then(() => 'committed'), new Promise((resolve) => setTimeout(resolve, 5000, 'held up')).then(String)]);
    assert.equal(beside, 'committed');
    assert.equal(heldDone, false);
  } finally {
    await t.raw('ROLLBACK');
    await held;
  }
  const [totals] = await t.store.stateHourTotals({ fromHour: 0, toHour: 10_000_000, serviceTypes: [], stateTypes: ['Waiting'] });
  assert.equal(totals.started, 3, 'the shards add up');
  const shards = await t.raw('SELECT DISTINCT shard FROM state_hours ORDER BY shard');
  assert.deepEqual(shards.map((r) => Number(r.shard)), [0, 1]);
});
