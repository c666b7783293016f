// The audit log contract, on every store.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openTestStore, type TestStore } from '../helpers/stores.js';

let t: TestStore;
before(async () => {
  t = await openTestStore();
});
after(async () => t.destroy());

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] audit records come back newest first, exactly as written`, async () => {
  const { store } = t;
  await store.appendAudit({ at: 1, actor: 'a', action: 'services.purge', subject: 'purge.service.all', counts: { services: 3 } });
  await store.appendAudit({ at: 2, actor: 'b', action: 'services.export', counts: { services: 0 } });
  const records = await store.listAudit(10);
  assert.deepEqual(
    records.map(({ id: _id, ...rest }) => rest),
    [
      { at: 2, actor: 'b', action: 'services.export', counts: { services: 0 } },
      { at: 1, actor: 'a', action: 'services.purge', subject: 'purge.service.all', counts: { services: 3 } },
    ],
  );
  assert.ok(records[0].id! > records[1].id!);
  assert.equal((await store.listAudit(1)).length, 1);
});
