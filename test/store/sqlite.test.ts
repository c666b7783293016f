import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import { parseElementEnd, parseServiceStart } from '../../src/domain/events.js';
import type { SqliteStore } from '../../src/store/sqlite/index.js';
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
  const active = store.explainActiveServicesOfCustomer().join(' | ');
  assert.match(active, /USING (COVERING )?INDEX services_active_by_customer/);
  assert.doesNotMatch(active, /SCAN services(?! USING)/);
  const anonymous = store.explainAnonymousServices().join(' | ');
  assert.match(anonymous, /USING (COVERING )?INDEX services_anonymous_by_contact/);
});

test('group commit: writes issued together commit together, and a rejected write rolls back alone', async () => {
  const now = Date.now();
  const started = await Promise.all(Array.from({ length: 50 }, (_, i) => store.startService(parseServiceStart({ customer_id: 'G', service_type: i }, now))));
  assert.equal(new Set(started.map(String)).size, 50);
  const results = await Promise.allSettled([
    store.endService(started[0], parseElementEnd({}, now, 'service')),
    store.endService(started[0], parseElementEnd({}, now, 'service')), // conflict, same batch
    store.endService(123456789n, parseElementEnd({}, now, 'service')), // not found, same batch
    store.endService(started[1], parseElementEnd({ disposition: 'ok' }, now, 'service')),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
  );
  assert.equal(((results[1] as PromiseRejectedResult).reason as DomainError).kind, 'Conflict');
  assert.equal(((results[2] as PromiseRejectedResult).reason as DomainError).kind, 'NotFound');
  const completed = await store.listServices({ customerId: 'G', status: 'completed', serviceTypes: [] });
  assert.deepEqual(completed.map((s) => s.serviceId), [started[0], started[1]]);
  assert.equal(completed[1].disposition, 'ok');
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
  const plan = store.explainIdentify().join(' | ');
  assert.match(plan, /SEARCH profile_identities USING (COVERING |PRIMARY KEY|INDEX)/);
  assert.doesNotMatch(plan, /SCAN profile/);
});

test('paging binds LIMIT and OFFSET: distinct offsets share one prepared statement, and the cache is bounded', async () => {
  const statements = (store as unknown as { statements: Map<string, unknown> }).statements;
  await store.listServices({ customerId: 'PAGE', status: 'all', serviceTypes: [], limit: 10, offset: 1 });
  const before = statements.size;
  for (let offset = 2; offset < 200; offset++) await store.listServices({ customerId: 'PAGE', status: 'all', serviceTypes: [], limit: 10, offset });
  for (let offset = 2; offset < 50; offset++) await store.listStates({ serviceIds: [1n], status: 'all', stateTypes: [], limit: offset, offset });
  assert.ok(statements.size <= before + 1, `${statements.size - before} statements added for 246 distinct pages`);
});
