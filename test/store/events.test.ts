// The event transport contract: PostgreSQL carries event payloads between nodes (LISTEN/NOTIFY);
// SQLite serves one node and has no transport.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

let t: TestStore;
before(async () => {
  t = await openTestStore();
});
after(async () => t.destroy());

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] a payload published by one node reaches another; SQLite has no transport`, async () => {
  if (t.kind === 'sqlite') {
    assert.equal(t.store.publishEvent, undefined);
    assert.equal(t.store.subscribeEvents, undefined);
    return;
  }
  const other = new PostgresStore({ url: t.url });
  after(() => other.close());
  let deliver: (payload: string) => void = () => undefined;
  const received = new Promise<string>((resolve) => (deliver = resolve));
  // resolves once the other node is listening
  await other.subscribeEvents((payload) => deliver(payload));
  await t.store.publishEvent!('{"n":1}');
  assert.equal(await received, '{"n":1}');
});
