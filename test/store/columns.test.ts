// Each field is stored once: an element's indexed columns (started_at, completed_at, its type) are
// derived from its doc by docColumns alone. After every kind of write, on every store, they agree.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseElementEnd, parseServiceAssociation, parseServiceStart, parseStateStart, parseStateTransition, parseTaskStart } from '../../src/domain/events.js';
import { decodeDoc, docColumns } from '../../src/store/codec.js';
import { manualClock } from '../helpers/clock.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

const clock = manualClock(Date.UTC(2024, 5, 1));
let t: TestStore;
before(async () => {
  t = await openTestStore(clock.now);
});
after(async () => t.destroy());

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] indexed columns agree with the doc after starts, ends, associations, transitions and auto-completion`, async () => {
  const { store } = t;
  const now = clock.now();
  const a = await store.startService(parseServiceStart({ contact_key: 'C', service_type: 9223372036854775807n, timestamp: '2024-06-01T00:00:01.250+02:00' }, now));
  const b = await store.startService(parseServiceStart({ customer_id: 'K', service_type: 'B', auto_complete_after: 1 }, now));
  const s1 = await store.startState(a, parseStateStart({ state_type: 'S' }, now));
  await store.transitionState(a, parseStateTransition({ from: { state_id: s1, timestamp: '2024-06-01T00:00:05Z' }, to: { state_type: 7 } }, now));
  const task = await store.startTask(a, parseTaskStart({ task_type: 'T' }, now));
  await store.endTask(a, task, parseElementEnd({ timestamp: '2024-06-01T00:00:09.999Z' }, now, 'task'));
  await store.associateService(a, 'K', parseServiceAssociation({ service_type: 'Renamed' }));
  await store.endService(a, parseElementEnd({ timestamp: '2024-06-01T00:01:00Z' }, now, 'service'));
  await store.startState(b, parseStateStart({ state_type: 'open' }, now));
  await store.startTask(b, parseTaskStart({}, now));
  clock.advance(1000);
  assert.equal(await store.autoCompleteIdle(undefined, 10), 1);

  for (const [table, typeColumn] of [['services', 'service_type'], ['states', 'state_type'], ['tasks', 'task_type']] as const) {
    const rows = await t.raw(`SELECT started_at, completed_at, ${typeColumn} AS type, doc FROM ${table}`);
    assert.ok(rows.length >= 2, table);
    for (const row of rows) {
      const derived = docColumns(decodeDoc(row.doc as string));
      const stored = { startedAt: Number(row.started_at), completedAt: row.completed_at === null ? null : Number(row.completed_at), type: row.type };
      assert.deepEqual(stored, { startedAt: derived.startedAt, completedAt: derived.completedAt, type: derived.type }, `${table}: ${row.doc}`);
    }
  }
});
