// The stream reads the outbox: profile, metadata and privacy writes publish too, a stream that
// starts with Last-Event-ID: 0 gets everything still kept, and the sweep trims what is older than
// events.retention (on a manual clock).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';
import { collectEvents } from '../helpers/sse.js';

const DAY = 24 * 60 * 60_000;
const clock = manualClock(Date.UTC(2025, 0, 1));
let t: TestApp;
let base: string;
before(async () => {
  t = await createTestApp({ clock: clock.now, eventRetention: '2d' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/genesys/1/cs`;
});
after(async () => t.close());

const everything = (count: number, waitMs = 5000) => collectEvents(`${base}/events`, count, async () => undefined, { 'last-event-id': '0' }, waitMs);

test('profile, metadata and erase writes publish their events', async () => {
  const schema = { name: 'Loyalty', type: 'single-valued', attributes: [{ name: 'tier', type: 'string' }] };
  const events = await collectEvents(`${base}/events?kinds=profile.created,profile.updated,profile.deleted,metadata.created,metadata.deleted,customer.erased`, 6, async () => {
    assert.ok((await t.request('POST', '/metadata/services/extensions', schema)).statusCode < 300);
    assert.ok((await t.request('POST', '/profiles', { customer_id: 'OX-1', FirstName: 'Ada' })).statusCode < 300);
    assert.ok((await t.request('PUT', '/profiles/OX-1', { LastName: 'Lovelace' })).statusCode < 300);
    assert.ok((await t.request('DELETE', '/metadata/services/extensions/Loyalty')).statusCode < 300);
    assert.ok((await t.request('DELETE', '/customers/OX-1')).statusCode < 300);
    assert.ok((await t.request('POST', '/profiles', { customer_id: 'OX-2' })).statusCode < 300);
  });
  assert.deepEqual(
    events.map((e) => [e.event, e.data.customer_id ?? e.data.name]),
    [
      ['metadata.created', 'Loyalty'],
      ['profile.created', 'OX-1'],
      ['profile.updated', 'OX-1'],
      ['metadata.deleted', 'Loyalty'],
      ['customer.erased', 'OX-1'],
      ['profile.created', 'OX-2'],
    ],
  );
  assert.equal(events[4].data.purged, 0, 'how many services the erase took');
});

test('Last-Event-ID: 0 replays everything kept; the sweep trims events past events.retention', async () => {
  const kept = await everything(100, 1000);
  // the erase took OX-1's profile events with it
  assert.deepEqual(kept.map((e) => e.event), ['metadata.created', 'metadata.deleted', 'customer.erased', 'profile.created']);
  clock.advance(DAY);
  const fresh = (await t.request('POST', '/services/start', { customer_id: 'OX-3', service_type: 'A' })).json().service_id;
  // a day and a half later the first events are two and a half days old, the start one and a half
  clock.advance(1.5 * DAY);
  await t.app.sweeper.runOnce();
  const after = await everything(100, 1000);
  assert.deepEqual(
    after.map((e) => [e.event, e.data.service_id]),
    [['service.started', String(fresh)]],
  );
  assert.ok(Number(after[0].id) > Number(kept.at(-1)!.id));
});
