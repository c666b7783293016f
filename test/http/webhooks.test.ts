// Webhooks against a real local receiver that fails, times out, answers slowly and recovers: every
// wanted event arrives, in order per service, signed per the Standard Webhooks specification (the
// check is written in test/helpers/receiver.ts from the specification); failures are retried on the
// business clock (a test's manual clock: no test waits for a retry) and dead-lettered after the retry
// period; replay sends again; the API never waits for a receiver.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashPassword } from '../../src/domain/access.js';
import type { StoredEvent } from '../../src/domain/event-kinds.js';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';
import { waitFor } from '../helpers/nats.js';
import { startReceiver, verifySignature, type Receiver } from '../helpers/receiver.js';

const STORE = process.env.CONTEXTD_TEST_STORE ?? 'sqlite';
const HOUR = 60 * 60_000;
const clock = manualClock();
let t: TestApp;
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver();
  t = await createTestApp({
    clock: clock.now,
    webhooks: { timeoutMs: 2000, retry: { firstDelayMs: 1000, maxDelayMs: 60_000, retryForMs: 24 * HOUR }, relay: { pollMs: 20 } },
  });
  t.app.webhooks.start();
});
after(async () => {
  await t.close();
  await receiver.close();
});

interface Created {
  id: string;
  secret: string;
  position: number;
}

async function createWebhook(body: Record<string, unknown>): Promise<Created> {
  const response = await t.request('POST', '/webhooks', body);
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
}

/** Moves business time on (10 s a step: retries fall due) until `done`. */
async function advanceUntil(done: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out');
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function eventsAfter(position: number): Promise<StoredEvent[]> {
  return t.store.readEvents({}, position, 10_000);
}

const answeredIds = (path: string) => new Set(receiver.deliveries.filter((d) => d.path === path && d.answered !== undefined && d.answered < 300).map((d) => d.json.data.id));

test(`[${STORE}] create, list, read and delete a webhook; the secret is shown once`, async () => {
  const created = await createWebhook({ url: `${receiver.url}?crud`, kinds: ['service.started'], description: 'CRM' });
  assert.match(created.id, /^wh_[0-9a-f]{32}$/);
  assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  assert.equal(created.position, await t.store.lastEventId(), 'it delivers what commits from now on');
  const listed = await t.request('GET', '/webhooks');
  assert.equal(listed.statusCode, 200);
  const mine = listed.json().find((w: { id: string }) => w.id === created.id);
  assert.deepEqual(
    { ...mine, created_at: undefined, position: undefined },
    { id: created.id, url: `${receiver.url}?crud`, kinds: ['service.started'], service_types: [], extensions: false, description: 'CRM', created_at: undefined, position: undefined, pending: 0, dead: 0 },
  );
  assert.equal(JSON.stringify(listed.json()).includes('whsec_'), false, 'never listed');
  assert.equal((await t.request('GET', `/webhooks/${created.id}`)).json().id, created.id);
  assert.equal((await t.request('DELETE', `/webhooks/${created.id}`)).statusCode, 204);
  const gone = await t.request('GET', `/webhooks/${created.id}`);
  assert.equal(gone.statusCode, 404);
  assert.equal(gone.json().message, `There are no webhook found for : ${created.id}`);
  assert.equal((await t.request('DELETE', `/webhooks/${created.id}`)).statusCode, 404);
  assert.equal((await t.request('GET', `/webhooks/${created.id}/deliveries`)).statusCode, 404);
  assert.equal((await t.request('POST', `/webhooks/${created.id}/replay`, { from_event_id: 1 })).statusCode, 404);
});

test('bad webhooks are 400s that say why, and create nothing', async () => {
  const before = (await t.request('GET', '/webhooks')).json().length;
  for (const [body, says] of [
    [{ url: 'ftp://example.com/x' }, /http or https/],
    [{ url: 'not a url' }, /not an absolute URL/],
    [{ url: 'http://user:pw@example.com/' }, /credentials/],
    [{ url: 'http://example.com/', kinds: ['service.begun'] }, /kinds/],
    [{ url: 'http://example.com/', secret: 'whsec_c2hvcnQ=' }, /secret/],
    [{ url: 'http://example.com/', secret: 'plain-text-secret-of-good-length-1234' }, /secret/],
    [{ url: 'http://example.com/', colour: 'red' }, /colour/],
    [{ kinds: ['service.started'] }, /url/],
    [[], /object/],
  ] as const) {
    const response = await t.request('POST', '/webhooks', body);
    assert.equal(response.statusCode, 400, JSON.stringify(body));
    assert.match(response.json().message, says, response.body);
    assert.equal(typeof response.json().exception, 'string');
  }
  assert.equal((await t.request('GET', '/webhooks')).json().length, before);
  const created = await createWebhook({ url: `${receiver.url}?bad` });
  for (const query of ['limit=0', 'limit=x', 'limit=1001', 'before=-1']) assert.equal((await t.request('GET', `/webhooks/${created.id}/deliveries?${query}`)).statusCode, 400, query);
  assert.equal((await t.request('POST', `/webhooks/${created.id}/replay`, { from_event_id: 0 })).statusCode, 400);
  assert.equal((await t.request('POST', `/webhooks/${created.id}/replay`, {})).statusCode, 400);
  await t.request('DELETE', `/webhooks/${created.id}`);
});

test('through failures, a timeout and slow answers every event arrives, in order per service, signed', async () => {
  const path = '/hook?order';
  const hook = await createWebhook({ url: receiver.url.replace('/hook', path) });
  let mine = 0;
  const failedOnce = new Set<number>();
  receiver.answer = (d) => {
    if (d.path !== path) return 204;
    mine++;
    // the first answer takes a while: the events written meanwhile come in pages with several events of each service
    if (mine === 1) return { status: 204, delayMs: 500 };
    if (mine === 2) return 'hang';
    const id = d.json.data.id;
    // the first attempt of every fourth event fails: the events of its service behind it must wait
    if (id % 4 === 0 && !failedOnce.has(id)) {
      failedOnce.add(id);
      return 500;
    }
    return id % 5 === 0 ? { status: 200, delayMs: 40 } : 204;
  };
  const services = await Promise.all(
    Array.from({ length: 5 }, async (_, i) => {
      const id = await startService(t, { customer_id: `WH-${i}`, service_type: 'Billing' });
      for (let s = 0; s < 4; s++) assert.equal((await t.request('POST', `/services/${id}/states/start`, { state_type: s })).statusCode, 201);
      assert.equal((await t.request('POST', `/services/${id}/end`)).statusCode, 204);
      return id;
    }),
  );
  const expected = await eventsAfter(hook.position);
  assert.equal(expected.length, 5 * 6);
  await advanceUntil(() => expected.every((e) => answeredIds(path).has(e.id)));

  const mineAll = receiver.deliveries.filter((d) => d.path === path);
  for (const d of mineAll) assert.ok(verifySignature(hook.secret, d), `signature of ${d.id}`);
  assert.equal(verifySignature(hook.secret, { ...mineAll[0], body: mineAll[0].body.replace('"kind"', '"kinD"') }), false, 'the check fails on a changed body');
  assert.equal(verifySignature(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, mineAll[0]), false, 'and on another secret');
  for (const service of services) {
    const ids = mineAll.filter((d) => d.json.data.service_id === service).map((d) => d.json.data.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `service ${service}: attempts in event order`);
    assert.deepEqual([...new Set(ids)], expected.filter((e) => String(e.serviceId) === service).map((e) => e.id));
  }
  const first = mineAll.find((d) => d.json.data.id === expected[0].id)!;
  assert.equal(first.id, `evt_${expected[0].id}`, 'webhook-id: the same on every attempt of an event');
  assert.deepEqual(Object.keys(first.json), ['type', 'timestamp', 'data']);
  assert.equal(first.json.type, first.json.data.kind);
  assert.equal(first.json.data.service_type, 'Billing');

  // the log is written once a round is over, just after the receiver answered
  type Logged = { outcome: string; status?: number; error?: string; latency_ms: number; attempt: number };
  const log = await waitFor(
    async () => (await t.request('GET', `/webhooks/${hook.id}/deliveries?limit=1000`)).json() as Logged[],
    (l) => l.filter((a) => a.outcome === 'delivered').length >= expected.length,
  );
  assert.ok(log.some((a) => a.outcome === 'failed' && a.status === 500 && a.error === 'the receiver answered 500'));
  assert.ok(log.some((a) => a.outcome === 'failed' && a.status === undefined && a.error === 'no answer within 2000 ms' && a.latency_ms >= 1900));
  assert.ok(log.some((a) => a.outcome === 'delivered' && a.attempt > 1), 'a retry delivered');
  assert.equal(log.filter((a) => a.outcome === 'delivered').length, expected.length);
  const progress = (await t.request('GET', `/webhooks/${hook.id}`)).json();
  assert.equal(progress.pending, 0);
  assert.equal(progress.position, await t.store.lastEventId());
  await t.request('DELETE', `/webhooks/${hook.id}`);
});

test('filters: kinds, customer_id and service_types', async () => {
  receiver.answer = () => 204;
  const byKind = await createWebhook({ url: `${receiver.url}?kind`, kinds: ['service.ended'] });
  const byCustomer = await createWebhook({ url: `${receiver.url}?customer`, customer_id: 'F-1' });
  const byType = await createWebhook({ url: `${receiver.url}?type`, service_types: ['Sales', 7] });
  const a = await startService(t, { customer_id: 'F-1', service_type: 'Billing' });
  const b = await startService(t, { customer_id: 'F-2', service_type: 'Sales' });
  const c = await startService(t, { contact_key: '555', service_type: 7 });
  for (const id of [a, b, c]) await t.request('POST', `/services/${id}/end`);
  await t.request('POST', '/profiles', { customer_id: 'F-1' });
  const events = await eventsAfter(byKind.position);
  const ids = (filter: (e: StoredEvent) => boolean) => events.filter(filter).map((e) => e.id);
  const got = (query: string) => receiver.deliveries.filter((d) => d.path === `/hook?${query}`).map((d) => d.json.data.id);
  await waitFor(async () => got('kind').length + got('customer').length + got('type').length, (n) => n >= 3 + 3 + 4);
  await new Promise((r) => setTimeout(r, 100)); // nothing more comes
  assert.deepEqual(got('kind'), ids((e) => e.kind === 'service.ended'));
  assert.deepEqual(got('customer'), ids((e) => e.customerId === 'F-1'));
  assert.ok(got('customer').length === 3, 'the profile event too');
  assert.deepEqual(got('type'), ids((e) => e.serviceId !== undefined && [b, c].includes(String(e.serviceId))));
  for (const w of [byKind, byCustomer, byType]) await t.request('DELETE', `/webhooks/${w.id}`);
});

test('with extensions on, extension events carry the values written; without, only the names', async () => {
  receiver.answer = () => 204;
  const withValues = await createWebhook({ url: `${receiver.url}?ext`, kinds: ['service.extension', 'state.extension'], extensions: true });
  const plain = await createWebhook({ url: `${receiver.url}?plain`, kinds: ['service.extension'] });
  const id = await startService(t, { customer_id: 'EXT-1', service_type: 'A' });
  const stateId = (await t.request('POST', `/services/${id}/states/start`, { state_type: 1 })).json().state_id;
  assert.equal((await t.request('PUT', `/services/${id}/extensions/Cart`, { order_id: 4711, items: 2 })).statusCode, 200);
  assert.equal((await t.request('PUT', `/services/${id}/states/${stateId}/extensions/Note`, { text: 'call back' })).statusCode, 200);
  const got = (query: string) => receiver.deliveries.filter((d) => d.path === `/hook?${query}`).map((d) => d.json.data);
  await waitFor(async () => got('ext').length + got('plain').length, (n) => n >= 3);
  assert.deepEqual(
    got('ext').map((d) => [d.kind, d.extension, d.extensions]),
    [
      ['service.extension', 'Cart', { Cart: { order_id: 4711, items: 2 } }],
      ['state.extension', 'Note', { Note: { text: 'call back' } }],
    ],
  );
  assert.deepEqual(got('plain').map((d) => [d.kind, d.extension, d.extensions]), [['service.extension', 'Cart', undefined]]);
  assert.equal((await t.request('GET', `/webhooks/${withValues.id}`)).json().extensions, true);
  for (const w of [withValues, plain]) await t.request('DELETE', `/webhooks/${w.id}`);
});

test('an event failing for the whole retry period is dead-lettered, with the events behind it; replay sends them again', async () => {
  const path = '/hook?dead';
  receiver.answer = (d) => (d.path === path ? 503 : 204);
  const hook = await createWebhook({ url: receiver.url.replace('/hook', path) });
  const id = await startService(t, { customer_id: 'DEAD-1', service_type: 'A' });
  await t.request('POST', `/services/${id}/states/start`, { state_type: 1 });
  const [started, state] = await eventsAfter(hook.position);
  await waitFor(async () => (await t.request('GET', `/webhooks/${hook.id}`)).json(), (w) => w.pending === 2);
  assert.equal(receiver.deliveries.filter((d) => d.path === path).length, 1, 'the state event waits behind the failed start');
  clock.advance(25 * HOUR);
  const dead = await waitFor(async () => (await t.request('GET', `/webhooks/${hook.id}`)).json(), (w) => w.dead === 2);
  assert.equal(dead.dead, 2);
  assert.equal(dead.pending, 0);
  const log = (await t.request('GET', `/webhooks/${hook.id}/deliveries`)).json();
  assert.deepEqual(
    log.map((a: { event_id: number; attempt: number; outcome: string; status: number }) => [a.event_id, a.attempt, a.outcome, a.status]),
    [
      [state.id, 1, 'dead', 503],
      [started.id, 2, 'dead', 503],
      [started.id, 1, 'failed', 503],
    ],
  );
  // pages of the log
  const page = (await t.request('GET', `/webhooks/${hook.id}/deliveries?limit=1&before=${log[0].id}`)).json();
  assert.deepEqual(page.map((a: { id: number }) => a.id), [log[1].id]);

  receiver.answer = () => 204;
  assert.equal((await t.request('POST', `/webhooks/${hook.id}/replay`, { from_event_id: started.id })).statusCode, 202);
  await waitFor(async () => answeredIds(path), (s) => s.has(state.id));
  assert.deepEqual(
    receiver.deliveries.filter((d) => d.path === path && d.answered === 204).map((d) => d.json.data.id),
    [started.id, state.id],
  );
  assert.equal((await t.request('GET', `/webhooks/${hook.id}`)).json().dead, 0);
  await t.request('DELETE', `/webhooks/${hook.id}`);
});

test('a receiver that refuses connections or answers a redirect has failed, and the log says why', async () => {
  const refused = await createWebhook({ url: 'http://127.0.0.1:1/nobody-here' });
  const path = '/hook?redirect';
  receiver.answer = (d) => (d.path === path ? 302 : 204);
  const redirected = await createWebhook({ url: receiver.url.replace('/hook', path) });
  await startService(t, { customer_id: 'REFUSED-1', service_type: 'A' });
  const first = async (id: string) => (await t.request('GET', `/webhooks/${id}/deliveries`)).json()[0];
  const a = await waitFor(() => first(refused.id), (x) => x !== undefined);
  assert.equal(a.outcome, 'failed');
  assert.equal(a.status, undefined);
  assert.match(a.error, /ECONNREFUSED/);
  const b = await waitFor(() => first(redirected.id), (x) => x !== undefined);
  assert.deepEqual([b.outcome, b.status, b.error], ['failed', 302, 'the receiver answered 302']);
  for (const w of [refused, redirected]) await t.request('DELETE', `/webhooks/${w.id}`);
});

test('a receiver that never answers does not slow the API', async () => {
  // a long timeout: the deliveries hang for the whole test (the app's stop gives them up)
  const patient = await createTestApp({ webhooks: { timeoutMs: 60_000, relay: { pollMs: 20 } } });
  try {
    patient.app.webhooks.start();
    const path = '/hook?hang';
    receiver.answer = (d) => (d.path === path ? 'hang' : 204);
    assert.equal((await patient.request('POST', '/webhooks', { url: receiver.url.replace('/hook', path) })).statusCode, 201);
    const hanging = () => receiver.deliveries.filter((d) => d.path === path).length;
    const id = await startService(patient, { customer_id: 'HANG-1', service_type: 'A' });
    await waitFor(async () => hanging(), (n) => n === 1);
    for (let i = 0; i < 50; i++) assert.equal((await patient.request('POST', `/services/${id}/states/start`, { state_type: i })).statusCode, 201);
    assert.equal(hanging(), 1, 'the first delivery hung all along (the events after it wait for it)');
    assert.ok(receiver.inFlight >= 1);
  } finally {
    await patient.close();
  }
});

test('with roles on, webhooks are for Administrators only, reads included', async () => {
  const secured = await createTestApp({
    users: [
      { name: 'admin', password_hash: hashPassword('adm1n-pass'), roles: ['Administrator'] },
      { name: 'sup', password_hash: hashPassword('sup-pass'), roles: ['Supervisor'] },
    ],
  });
  try {
    const as = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    assert.equal((await secured.request('GET', '/webhooks', undefined, as('sup', 'sup-pass'))).statusCode, 403);
    assert.equal((await secured.request('POST', '/webhooks', { url: 'http://127.0.0.1:1/' }, as('sup', 'sup-pass'))).statusCode, 403);
    assert.equal((await secured.request('GET', '/webhooks', undefined, as('admin', 'adm1n-pass'))).statusCode, 200);
    assert.equal((await secured.request('POST', '/webhooks', { url: 'http://127.0.0.1:1/' }, as('admin', 'adm1n-pass'))).statusCode, 201);
  } finally {
    await secured.close();
  }
});

test('the sweep trims delivery attempts older than events.retention, with the events', async () => {
  receiver.answer = () => 204;
  const hook = await createWebhook({ url: `${receiver.url}?trim` });
  await startService(t, { customer_id: 'TRIM-1', service_type: 'A' });
  const log = () => t.request('GET', `/webhooks/${hook.id}/deliveries`).then((r) => r.json() as unknown[]);
  await waitFor(log, (l) => l.length === 1);
  clock.advance(6 * 24 * HOUR);
  await t.app.sweeper.runOnce();
  assert.equal((await log()).length, 1, 'kept within the retention (7d)');
  clock.advance(2 * 24 * HOUR);
  await t.app.sweeper.runOnce();
  assert.deepEqual(await log(), []);
  await t.request('DELETE', `/webhooks/${hook.id}`);
});
