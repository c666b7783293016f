// The batch rule, on every store: writes that share a group-commit batch commit together, and a write
// that fails after it has written leaves nothing while the others commit (Kysely's
// "transactions in parallel" test, in group-commit form).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DomainError, invalid } from '../../src/domain/errors.js';
import { parseElementEnd, parseServiceStart } from '../../src/domain/events.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { applyOnly } from '../../src/store/sql/write.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

let t: TestStore;
let store: SqlStore;
before(async () => {
  t = await openTestStore();
  store = t.store as SqlStore;
});
after(async () => t.destroy());

const NOW = Date.UTC(2024, 5, 1);
const audit = (actor: string) => applyOnly((tx) => tx.run("INSERT INTO audit_log (at, actor, action, counts) VALUES (0, ?, 'services.purge', '{}')", [actor]));

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] a write that fails after writing leaves nothing; the rest of its batch commits`, async () => {
  // all submitted in one turn of the event loop: one batch
  const writes = Array.from({ length: 40 }, (_, i) => {
    if (i % 4 === 0) return store.startService(parseServiceStart({ customer_id: 'GC', service_type: `T${i}` }, NOW));
    if (i % 4 === 1) {
      // writes, then fails: unexpected (a bug, a constraint)
      return store.submit(
        applyOnly(async (tx) => {
          await tx.run("INSERT INTO audit_log (at, actor, action, counts) VALUES (0, ?, 'services.purge', '{}')", [`failed-${i}`]);
          throw new Error(`injected failure ${i}`);
        }),
      );
    }
    if (i % 4 === 2) {
      // writes, then the database refuses a second statement (a duplicate primary key)
      return store.submit(
        applyOnly(async (tx) => {
          await tx.run("INSERT INTO audit_log (at, actor, action, counts) VALUES (0, ?, 'services.purge', '{}')", [`duplicate-${i}`]);
          await tx.run("INSERT INTO extension_schemas (entity, name_key, definition) VALUES ('services', 'dup', '{}')");
          await tx.run("INSERT INTO extension_schemas (entity, name_key, definition) VALUES ('services', 'dup', '{}')");
        }),
      );
    }
    return store.submit(audit(`ok-${i}`));
  });
  const results = await Promise.allSettled(writes);
  results.forEach((result, i) => assert.equal(result.status, i % 4 === 0 || i % 4 === 3 ? 'fulfilled' : 'rejected', `write ${i}`));
  assert.match(String((results[1] as PromiseRejectedResult).reason), /injected failure 1/);

  const actors = (await t.raw('SELECT actor FROM audit_log ORDER BY actor')).map((r) => r.actor);
  assert.deepEqual(actors, Array.from({ length: 10 }, (_, k) => `ok-${4 * k + 3}`).sort());
  assert.deepEqual(await t.raw("SELECT name_key FROM extension_schemas WHERE name_key = 'dup'"), []);
  const started = await store.listServices({ customerId: 'GC', status: 'all', serviceTypes: [] });
  assert.deepEqual(started.map((s) => s.serviceType).sort(), Array.from({ length: 10 }, (_, k) => `T${4 * k}`).sort());
  assert.equal(new Set(started.map((s) => s.serviceId)).size, 10);
});

test('a write refused while planning writes nothing, without costing the batch a rerun', async () => {
  let applied = 0;
  const refused = store.submit({
    plan: async () => {
      throw invalid('refused by the plan');
    },
    apply: async () => void applied++,
  });
  const accepted = store.submit(audit('after-refusal'));
  await assert.rejects(refused, (error: unknown) => error instanceof DomainError && error.kind === 'Validation');
  await accepted;
  assert.equal(applied, 0);
  assert.equal((await t.raw("SELECT actor FROM audit_log WHERE actor = 'after-refusal'")).length, 1);
});

test('writes issued together commit together; ends refused while planning (Conflict, NotFound) fail alone', async () => {
  const now = NOW;
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
