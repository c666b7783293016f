// The server folds the rollup deltas its commits' events carry into the rollup rows (RollupFolder):
// shortly after the writes, the reports' tail is empty — every delta is in the rows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { unfoldedEvents } from '../helpers/stores.js';

let t: TestApp;
before(async () => {
  t = await createTestApp({ rollupFold: { intervalMs: 0 } });
});
after(async () => t.close());

const unfolded = () => unfoldedEvents(t.raw);

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] the server folds what its writes commit`, async () => {
  const id = await startService(t, { customer_id: 'FOLD-1', service_type: 'Billing' });
  const state = await t.request('POST', `/services/${id}/states/start`, { state_type: 'Waiting' });
  assert.equal(state.statusCode, 201);
  assert.equal((await t.request('POST', `/services/${id}/states/${state.json().state_id}/end`, {})).statusCode, 204);
  // the fold runs after the commits, on its own turn: a condition, not a fixed sleep
  for (const until = Date.now() + 10_000; Date.now() < until && (await unfolded()) > 0; ) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(await unfolded(), 0, 'every delta folded');
  const rows = await t.raw("SELECT SUM(started) AS started, SUM(completed) AS completed FROM state_hours WHERE state_type = 'Waiting'");
  assert.deepEqual([Number(rows[0].started), Number(rows[0].completed)], [1, 1]);
});
