// The queries a request runs are index-bounded on PostgreSQL too (test/store/sqlite.test.ts checks
// SQLite's): with sequential scans disabled, each production query text must still find an index —
// a plan that scans the table means no index can serve it, and its cost would grow with the store.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { ACTIVE_SERVICES_OF_CUSTOMER, ANONYMOUS_SERVICES_OF_CONTACT } from '../../src/store/sql/services.js';
import { TRIM_EVENTS } from '../../src/store/sql/outbox.js';
import { ROLLUP_TAIL } from '../../src/store/sql/rollups.js';
import { IDENTIFY_BY_PREFIX } from '../../src/store/sql/profiles.js';
import { liveCountsSql, liveMedianSql } from '../../src/store/sql/analytics.js';
import { freshPostgresSchema } from '../helpers/stores.js';

let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
let client: pg.Client;
before(async () => {
  schema = await freshPostgresSchema();
  const store = new PostgresStore({ url: schema.url });
  await store.migrate();
  await store.close();
  client = new pg.Client({ connectionString: schema.url });
  await client.connect();
  await client.query('SET enable_seqscan = off');
});
after(async () => {
  await client.end();
  await schema.drop();
});

/** The plan of `sql` (its `?` placeholders numbered, as the store does) with these parameters. */
async function plan(sql: string, params: unknown[]): Promise<string> {
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  const res = await client.query(`EXPLAIN ${text.replace(/\$(\d+)/g, (_, i) => literal(params[Number(i) - 1]))}`);
  return res.rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join(' | ');
}

const literal = (value: unknown) => (typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`);

test("a customer's active services, a contact key's anonymous services and identification use their indexes", async () => {
  const active = await plan(ACTIVE_SERVICES_OF_CUSTOMER, ['x', 0]);
  assert.match(active, /services_active_by_customer/);
  assert.doesNotMatch(active, /Seq Scan/);
  const anonymous = await plan(ANONYMOUS_SERVICES_OF_CONTACT, ['x', 0]);
  assert.match(anonymous, /services_by_contact/);
  assert.doesNotMatch(anonymous, /Seq Scan/);
  const identify = await plan(IDENTIFY_BY_PREFIX, [1, 'a', 'b']);
  assert.doesNotMatch(identify, /Seq Scan/);
});

test('the outbox is read by id range, and the trim looks at the oldest ids only', async () => {
  // the relay's and a feed's read (no filter)
  const read = await plan('SELECT event_id, at, kind FROM events WHERE event_id > ? ORDER BY event_id LIMIT ?', [10, 500]);
  assert.match(read, /Index Scan on events_pkey|Index Scan using events_pkey/);
  assert.doesNotMatch(read, /Seq Scan/);
  const trim = await plan(TRIM_EVENTS, [1000, 1000, 1000]);
  assert.match(trim, /events_pkey/);
  assert.doesNotMatch(trim, /Seq Scan/);
  // the reports' tail: the events after the rollup fold's position
  const tail = await plan(ROLLUP_TAIL, []);
  assert.match(tail, /events_pkey/);
  assert.doesNotMatch(tail, /Seq Scan/);
});

test('the live board reads the partial indexes of active services and waiting states', async () => {
  for (const [table, index, column] of [
    // either partial index of active services (the overview's services_active_by_start too) skips the
    // completed ones; on an empty table the planner may take either
    ['services', 'services_active_by_(type|start)', 'service_type'],
    ['states', 'states_waiting_by_type', 'state_type'],
  ] as const) {
    const counts = await plan(liveCountsSql(table), []);
    assert.match(counts, new RegExp(index));
    assert.doesNotMatch(counts, /Seq Scan/);
    const median = await plan(liveMedianSql(table, [`${column} = ?`]), ['T1', 2, 100]);
    assert.match(median, new RegExp(index));
    assert.doesNotMatch(median, /Seq Scan/);
  }
});
