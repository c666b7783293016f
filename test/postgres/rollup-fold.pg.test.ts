// Writes do not touch the rollup rows on PostgreSQL (migration 017): a batch's deltas ride on its last
// event, and the fold adds them to the rows later (src/store/sql/rollups.ts). A session holding every
// rollup row (a long transaction, a fold of another node) then holds up no write, and the reports
// still count every write, from the events' tail. Before, every batch upserted its slot's rows
// (migration 012) and waited on them.
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
const started = async () => (await t.store.stateHourTotals({ fromHour: 0, toHour: 10_000_000, serviceTypes: [], stateTypes: ['Waiting'] }))[0]?.started ?? 0;

test('a session holding the rollup rows holds up no write; the fold waits for it, and the reports count every write meanwhile', { timeout: 30_000 }, async () => {
  const service = await t.store.startService(parseServiceStart({ customer_id: 'RS-1', service_type: 'A' }, AT));
  const start = () => t.store.startState(service, parseStateStart({ state_type: 'Waiting', timestamp: new Date(AT).toISOString() }, AT));
  await start();
  assert.equal((await t.store.foldRollups(1000)).folded, 2);
  await t.raw('BEGIN');
  let fold: Promise<unknown> | undefined;
  try {
    await t.raw('SELECT started FROM state_hours FOR UPDATE');
    await t.raw('SELECT started FROM service_hours FOR UPDATE');
    const write = await Promise.race([start().then(() => 'committed'), new Promise((resolve) => setTimeout(resolve, 5000, 'held up')).then(String)]);
    assert.equal(write, 'committed');
    assert.equal(await started(), 2, 'the held rows count one start, the tail the other');
    let folded = false;
    fold = t.store.foldRollups(1000).then(() => (folded = true));
    // until the fold reaches the held row (a busy machine takes a while): a condition, not a fixed sleep
    for (const until = Date.now() + 10_000; Date.now() < until && (await waiting()) === 0; ) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(await waiting(), 1, 'the fold waits on the held row');
    assert.equal(folded, false);
  } finally {
    await t.raw('ROLLBACK');
    await fold;
  }
  assert.equal(await started(), 2, 'folded, counted once');
  assert.equal(Number((await t.raw("SELECT SUM(started) AS n FROM state_hours WHERE state_type = 'Waiting'"))[0].n), 2, 'both in the rows now');
});
