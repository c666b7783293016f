// The webhook store contract, on every store, on a manual clock: a webhook starts at the newest event;
// failed events queue in order per key, only a key's head is ever due, settling it promotes the next;
// replay moves the relay back and drops what it will send again; a deleted webhook takes its queue,
// log and relay with it; the log is trimmed by age.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseServiceAssociation, parseServiceStart } from '../../src/domain/events.js';
import { WAITING, type Webhook } from '../../src/domain/webhooks.js';
import { manualClock } from '../helpers/clock.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

const clock = manualClock(Date.UTC(2025, 0, 1));
let t: TestStore;
before(async () => {
  t = await openTestStore(clock.now);
});
after(async () => t.destroy());

function webhook(id: string): Webhook {
  return { id, url: 'http://127.0.0.1:1/', kinds: ['service.started'], customerId: 'W-1', serviceTypes: ['A', '7'], secret: 'whsec_x', includeExtensions: true, description: 'd', createdAt: clock.now() };
}

const attempt = (eventId: number, outcome: 'delivered' | 'failed' | 'dead', at = clock.now()) => ({ eventId, kind: 'service.started' as const, attempt: 1, at, status: 500, latencyMs: 3, error: 'e', outcome });

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] webhooks are created at the newest event, listed, read and deleted with their relay; at most N per partition`, async () => {
  const { store } = t;
  await store.startService(parseServiceStart({ customer_id: 'W-1', service_type: 'A' }, clock.now()));
  await store.createWebhook(webhook('wh_a'), 2);
  assert.deepEqual(await store.getWebhook('wh_a'), webhook('wh_a'));
  assert.deepEqual(await store.webhookProgress('wh_a'), { position: await store.lastEventId(), pending: 0, dead: 0 });
  await store.createWebhook({ ...webhook('wh_b'), customerId: undefined, description: undefined, kinds: [], serviceTypes: [], includeExtensions: false }, 2);
  await assert.rejects(store.createWebhook(webhook('wh_c'), 2), /at most 2 webhooks/);
  assert.deepEqual((await store.listWebhooks()).map((w) => w.id), ['wh_a', 'wh_b']);
  assert.equal((await store.getWebhook('wh_b'))?.customerId, undefined);
  assert.equal(await store.deleteWebhook('wh_b'), true);
  assert.equal(await store.deleteWebhook('wh_b'), false);
  assert.equal(await store.getWebhook('wh_b'), undefined);
  assert.deepEqual(await t.raw("SELECT relay FROM event_relays WHERE relay = 'webhook:wh_b'"), [], 'its relay went with it');
});

test('only the head of a key is due; settling it promotes the next; dead letters count apart', async () => {
  const { store } = t;
  await store.createWebhook(webhook('wh_q'), 10);
  const now = clock.now();
  await store.recordDeliveryRound('wh_q', {
    attempts: [attempt(1, 'failed'), attempt(3, 'failed')],
    enqueue: [
      { eventId: 1, orderingKey: 's:1', attempts: 1, firstAt: now, nextAt: now + 1000 },
      { eventId: 2, orderingKey: 's:1', attempts: 0, firstAt: now, nextAt: WAITING },
      { eventId: 3, orderingKey: 's:2', attempts: 1, firstAt: now, nextAt: now + 5000 },
    ],
    reschedule: [],
    settled: [],
  });
  // queued again (a page sent twice after a crash): nothing changes
  await store.recordDeliveryRound('wh_q', { attempts: [], enqueue: [{ eventId: 1, orderingKey: 's:1', attempts: 0, firstAt: now, nextAt: WAITING }], reschedule: [], settled: [] });
  assert.deepEqual(await store.pendingDeliveryKeys('wh_q', ['s:1', 's:2', 's:3']), new Set(['s:1', 's:2']));
  assert.deepEqual(await store.dueDeliveries('wh_q', now, 10), []);
  assert.equal(await store.nextDeliveryDueAt('wh_q'), now + 1000);
  const due = await store.dueDeliveries('wh_q', now + 5000, 10);
  assert.deepEqual(due.map((d) => [d.eventId, d.attempts]), [[1, 1], [3, 1]], 'heads only, the longest waiting first');
  assert.equal(due[0].event?.kind, 'service.started', 'with the event (the first test started a service)');
  assert.equal(due[1].event, undefined, 'no such event in the outbox');

  clock.advance(6000);
  await store.recordDeliveryRound('wh_q', {
    attempts: [attempt(1, 'delivered'), attempt(3, 'failed')],
    enqueue: [],
    reschedule: [{ eventId: 3, attempts: 2, nextAt: clock.now() + 9000 }],
    settled: [{ eventId: 1, orderingKey: 's:1', outcome: 'delivered' }],
  });
  assert.deepEqual((await store.dueDeliveries('wh_q', clock.now(), 10)).map((d) => d.eventId), [2], 'promoted: due now');
  await store.recordDeliveryRound('wh_q', { attempts: [attempt(2, 'dead')], enqueue: [], reschedule: [], settled: [{ eventId: 2, orderingKey: 's:1', outcome: 'dead' }] });
  assert.deepEqual(await store.webhookProgress('wh_q'), { position: await store.lastEventId(), pending: 1, dead: 1 });
  assert.deepEqual(await store.pendingDeliveryKeys('wh_q', ['s:1']), new Set(), 'a dead letter holds nothing up');
  const log = await store.listDeliveries('wh_q', undefined, 10);
  assert.deepEqual(log.map((a) => [a.eventId, a.outcome]), [[2, 'dead'], [3, 'failed'], [1, 'delivered'], [3, 'failed'], [1, 'failed']]);
  assert.deepEqual(log[0], { id: log[0].id, eventId: 2, kind: 'service.started', attempt: 1, at: clock.now(), status: 500, latencyMs: 3, error: 'e', outcome: 'dead' });
  assert.deepEqual((await store.listDeliveries('wh_q', log[1].id, 2)).map((a) => a.id), [log[2].id, log[3].id]);

  await store.replayWebhook('wh_q', 2);
  assert.deepEqual(await store.webhookProgress('wh_q'), { position: 1, pending: 0, dead: 0 }, 'from event 2 on it starts again');
  assert.equal(await store.claimRelay('webhook:wh_q', 'another-node', 10_000), 1, 'the lease was revoked');

  assert.equal(await store.trimDeliveries(clock.now(), 100), 2, 'the attempts of the first round, before now');
  assert.equal((await store.listDeliveries('wh_q', undefined, 10)).length, 3);
  assert.equal(await store.deleteWebhook('wh_q'), true);
  await store.recordDeliveryRound('wh_q', { attempts: [attempt(9, 'failed')], enqueue: [{ eventId: 9, orderingKey: 's:9', attempts: 1, firstAt: now, nextAt: now }], reschedule: [], settled: [] });
  assert.deepEqual(await t.raw("SELECT event_id FROM webhook_retries WHERE webhook_id = 'wh_q'"), [], 'a deleted webhook records nothing');
  assert.deepEqual(await t.raw("SELECT event_id FROM webhook_deliveries WHERE webhook_id = 'wh_q'"), []);
});

test('events carry their service type, for the filters', async () => {
  const { store } = t;
  const from = await store.lastEventId();
  const id = await store.startService(parseServiceStart({ contact_key: '555', service_type: 42 }, clock.now()));
  await store.associateService(id, 'W-2', parseServiceAssociation({ customer_id: 'W-2' }));
  await store.deleteService(id);
  assert.deepEqual((await store.readEvents({}, from, 10)).map((e) => [e.kind, e.serviceType]), [
    ['service.started', '42'],
    ['service.associated', '42'],
    ['service.deleted', '42'],
  ]);
});
