import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { parseServiceStart } from '../../src/domain/events.js';
import { liveCountsSql, liveMedianSql } from '../../src/store/sql/analytics.js';
import { sqliteDialect } from '../../src/store/sqlite/dialect.js';
import type { SqliteStore } from '../../src/store/sqlite/index.js';
import { ACTIVE_SERVICES_OF_CUSTOMER, ANONYMOUS_SERVICES_OF_CONTACT } from '../../src/store/sql/services.js';
import { IDENTIFY_BY_PREFIX } from '../../src/store/sql/profiles.js';
import { openSqlite, tempDir } from '../helpers/app.js';

let dir: string;
let store: SqliteStore;
before(async () => {
  dir = tempDir();
  store = await openSqlite(dir);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a customer's active services and a contact key's anonymous services are read through an index, not a scan", () => {
  // the texts production runs (listServices builds exactly these), not copies
  const active = store.explainQueryPlan(ACTIVE_SERVICES_OF_CUSTOMER, ['x', 0]).join(' | ');
  assert.match(active, /USING (COVERING )?INDEX services_active_by_customer/);
  assert.doesNotMatch(active, /SCAN services(?! USING)/);
  const anonymous = store.explainQueryPlan(ANONYMOUS_SERVICES_OF_CONTACT, ['x', 0]).join(' | ');
  assert.match(anonymous, /USING (COVERING )?INDEX services_by_contact/);
});

test('the live board reads the partial indexes of active services and waiting states', () => {
  for (const [table, index, column] of [
    ['services', 'services_active_by_type', 'service_type'],
    ['states', 'states_waiting_by_type', 'state_type'],
  ] as const) {
    const counts = store.explainQueryPlan(liveCountsSql(table), []).join(' | ');
    assert.match(counts, new RegExp(`USING (COVERING )?INDEX ${index}`));
    const median = store.explainQueryPlan(liveMedianSql(table, [`${column} = ?`]), ['T1', 2, 100]).join(' | ');
    assert.match(median, new RegExp(`USING (COVERING )?INDEX ${index}`));
    assert.doesNotMatch(median, /TEMP B-TREE/, 'in index order, no sort');
  }
});

test('close() commits queued writes before closing', async () => {
  const d = tempDir();
  const s = await openSqlite(d);
  const pending = s.startService(parseServiceStart({ customer_id: 'Q', service_type: 'A' }, Date.now()));
  await s.close();
  const id = await pending;
  const reopened = await openSqlite(d);
  assert.equal((await reopened.getService(id))?.customerId, 'Q');
  await reopened.close();
  rmSync(d, { recursive: true, force: true });
});

test('identification is an index range scan, not a scan of profiles', () => {
  const plan = store.explainQueryPlan(IDENTIFY_BY_PREFIX, [1, 'a', 'b']).join(' | ');
  assert.match(plan, /SEARCH profile_identities USING (COVERING |PRIMARY KEY|INDEX)/);
  assert.doesNotMatch(plan, /SCAN profile/);
});

test('paging binds LIMIT and OFFSET: distinct offsets share one prepared statement, and the cache is bounded', async () => {
  await store.listServices({ customerId: 'PAGE', status: 'all', serviceTypes: [], limit: 10, offset: 1 });
  const before = store.preparedStatements();
  for (let offset = 2; offset < 200; offset++) await store.listServices({ customerId: 'PAGE', status: 'all', serviceTypes: [], limit: 10, offset });
  for (let offset = 2; offset < 50; offset++) await store.listStates({ serviceIds: [1n], status: 'all', stateTypes: [], limit: offset, offset });
  const added = store.preparedStatements() - before;
  assert.ok(added <= 1, `${added} statements added for 246 distinct pages`);
});

test('a row set travels to SQLite exactly: 64-bit ids beside small ones, text with quotes and line breaks, nulls, booleans', () => {
  const types = ['bigint', 'text', 'bigint', 'boolean'] as const;
  const big = 9007199254740993n; // 2^53 + 1: not a JS number
  const rows = [
    [1n, 'plain', null, true],
    [big, 'quote " backslash \\ line\nbreak ünïcødé ✓', 7, false],
    [-42n, '', undefined, true],
    [2n ** 63n - 1n, '{"json":"text"}', 12.5, false],
  ];
  const db = new Database(':memory:');
  const read = db.prepare(`SELECT c0, c1, c2, c3 FROM ${sqliteDialect.rows([...types])}`).safeIntegers();
  const back = read.raw().all(...sqliteDialect.rowParams([...types], rows)) as unknown[][];
  assert.deepEqual(back, [
    [1n, 'plain', null, 1n],
    [big, 'quote " backslash \\ line\nbreak ünïcødé ✓', 7n, 0n],
    [-42n, '', null, 1n],
    [2n ** 63n - 1n, '{"json":"text"}', 12.5, 0n],
  ]);
  db.close();
});
