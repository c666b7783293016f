// Several contextd nodes on one PostgreSQL database.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { loadMigrations } from '../../src/store/migrations.js';
import { startServerProcess } from '../helpers/process.js';
import { collectEvents } from '../helpers/sse.js';
import { waitFor } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';
import { freshPostgresSchema } from '../helpers/stores.js';

let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
before(async () => {
  schema = await freshPostgresSchema();
});
after(async () => schema.drop());

test('nodes starting at once migrate safely (advisory lock): one applies, the others find it done', async () => {
  const stores = Array.from({ length: 4 }, () => new PostgresStore({ url: schema.url }));
  const applied = await Promise.all(stores.map((s) => s.migrate()));
  const appliers = applied.filter((a) => a.length > 0);
  assert.equal(appliers.length, 1, 'exactly one node applies the migrations');
  assert.deepEqual(appliers[0], loadMigrations('postgres').map((m) => m.version));
  await Promise.all(stores.map((s) => s.close()));
});

test('two contextd processes on one database: write through one, read through the other', async () => {
  const [a, b] = await Promise.all([startServerProcess([], { DATABASE_URL: schema.url }), startServerProcess([], { DATABASE_URL: schema.url })]);
  try {
    const post = (base: string, path: string, body: unknown) =>
      fetch(`${base}/genesys/1/cs${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const started = await post(a.base, '/services/start', { contact_key: 'N-1', service_type: 'A' });
    assert.equal(started.status, 201);
    const { service_id } = (await started.json()) as { service_id: number };
    const state = (await (await post(b.base, `/services/${service_id}/states/start`, { state_type: 4 })).json()) as { state_id: number };
    assert.equal((await post(a.base, `/services/${service_id}/states/${state.state_id}/end`, {})).status, 204);
    assert.equal((await post(b.base, `/services/${service_id}/states/${state.state_id}/end`, {})).status, 409);
    const seen = (await (await fetch(`${b.base}/genesys/1/cs/services/anonymous/N-1?completed_states=true`)).json()) as {
      service_id: number;
      completed_states: { state_id: number }[];
    }[];
    assert.equal(seen.length, 1);
    assert.equal(seen[0].service_id, service_id);
    assert.deepEqual(seen[0].completed_states.map((s) => s.state_id), [state.state_id]);
    const health = (await (await fetch(`${b.base}/health`)).json()) as { store: { kind: string } };
    assert.equal(health.store.kind, 'postgres');
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    assert.equal(await b.exited, 0);
  }
});

test('group commit under concurrency: many writers on the same services all commit, none lost', async () => {
  const store = new PostgresStore({ url: schema.url, poolSize: 8 });
  await store.migrate();
  const { parseServiceStart, parseStateStart, parseElementEnd } = await import('../../src/domain/events.js');
  const now = Date.now();
  const services = await Promise.all(Array.from({ length: 20 }, () => store.startService(parseServiceStart({ customer_id: 'GC', service_type: 'A' }, now))));
  // states on every service from many concurrent writes, in shuffled orders across batches
  const writes = Array.from({ length: 400 }, (_, i) => store.startState(services[(i * 7) % services.length], parseStateStart({ state_type: i }, now)));
  const stateIds = await Promise.all(writes);
  assert.equal(new Set(stateIds).size, 400);
  const ends = await Promise.allSettled(services.map((id) => store.endService(id, parseElementEnd({}, now, 'service'))));
  assert.ok(ends.every((e) => e.status === 'fulfilled'));
  const states = await store.listStates({ serviceIds: services, status: 'all', stateTypes: [] });
  assert.equal(states.length, 400);
  await store.close();
});

// an unexpected error inside a batch: test/store/group-commit.test.ts, on both stores

test('starts that share a batch are inserted together, each exactly as sent, with its own id and extensions', async () => {
  const store = new PostgresStore({ url: schema.url });
  await store.migrate();
  const { parseServiceStart } = await import('../../src/domain/events.js');
  const now = Date.now();
  const bodies = Array.from({ length: 30 }, (_, i) => ({
    customer_id: `BULK-${i % 3}`,
    service_type: i % 2 ? i : `T${i}`,
    ttl: 60 + i,
    ...(i % 4 === 0 ? { Ext: { i, big: 9007199254740993n } } : {}),
  }));
  const ids = await Promise.all(bodies.map((b) => store.startService(parseServiceStart(b, now))));
  assert.equal(new Set(ids.map(String)).size, 30);
  const extensions = await store.loadExtensions('service', ids);
  for (const [i, id] of ids.entries()) {
    const got = await store.getService(id);
    assert.equal(got?.customerId, bodies[i].customer_id);
    assert.equal(got?.serviceType, bodies[i].service_type);
    assert.ok(Math.abs(got!.expiresAt! - (Date.now() + (60 + i) * 1000)) < 5000, 'ttl counts from the write');
    assert.deepEqual(extensions.get(String(id))?.get('ext')?.value, i % 4 === 0 ? { i, big: 9007199254740993n } : undefined);
  }
  await store.close();
});

test('live events cross nodes: subscribe on one process, write through the other', async () => {
  const [a, b] = await Promise.all([startServerProcess([], { DATABASE_URL: schema.url }), startServerProcess([], { DATABASE_URL: schema.url })]);
  const controller = new AbortController();
  try {
    const response = await fetch(`${b.base}/genesys/1/cs/events?customer_id=X-NODE`, { signal: controller.signal });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('contextd events')) text += (await reader.read()).value ?? '';
    await new Promise((r) => setTimeout(r, 300)); // the other node hears the subscriber's presence
    const started = await fetch(`${a.base}/genesys/1/cs/services/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: 'X-NODE', service_type: 'A' }),
    });
    const { service_id } = (await started.json()) as { service_id: number };
    const deadline = Date.now() + 5000;
    while (!text.includes('event: service.started') && Date.now() < deadline) text += (await reader.read()).value ?? '';
    assert.match(text, /event: service\.started\ndata: \{[^\n]*"service_id":"\d+"/);
    assert.ok(text.includes(`"service_id":"${service_id}"`));
  } finally {
    controller.abort();
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    assert.equal(await b.exited, 0);
  }
});

test('a stream resumes on the other node with no gap and no repeat; ids are the same on every node', async () => {
  const [a, b] = await Promise.all([startServerProcess([], { DATABASE_URL: schema.url }), startServerProcess([], { DATABASE_URL: schema.url })]);
  const post = (base: string, path: string, body: unknown) =>
    fetch(`${base}/genesys/1/cs${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const stream = (base: string) => `${base}/genesys/1/cs/events?customer_id=X-RESUME`;
  try {
    let serviceId = 0;
    const first = await collectEvents(stream(b.base), 1, async () => {
      serviceId = ((await (await post(a.base, '/services/start', { customer_id: 'X-RESUME', service_type: 'A' })).json()) as { service_id: number }).service_id;
    });
    assert.equal(first[0].event, 'service.started');
    // while nobody listens: writes through both nodes, in turn
    const kinds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const node = i % 2 ? a : b;
      assert.equal((await post(node.base, `/services/${serviceId}/states/start`, { state_type: i })).status, 201);
      kinds.push('state.started');
    }
    assert.equal((await post(b.base, `/services/${serviceId}/end`, {})).status, 204);
    kinds.push('service.ended');
    // one more than there is: it waits, and nothing repeats
    const resumed = await collectEvents(stream(a.base), kinds.length + 1, async () => undefined, { 'last-event-id': first[0].id }, 1500);
    assert.deepEqual(resumed.map((e) => e.event), kinds);
    const ids = resumed.map((e) => Number(e.id));
    assert.ok(ids.every((id, i) => id > (i === 0 ? Number(first[0].id) : ids[i - 1])), 'after the last one seen, increasing');
    assert.deepEqual(resumed.map((e) => e.data.state_id ?? null).slice(0, 6).every(Number.isInteger), true);
    // the same events, with the same ids, from the other node
    const again = await collectEvents(stream(b.base), kinds.length, async () => undefined, { 'last-event-id': first[0].id });
    assert.deepEqual(again.map((e) => e.id), resumed.map((e) => e.id));
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    assert.equal(await b.exited, 0);
  }
});

test('two nodes, one webhook: each event is delivered once, by the node holding the lease; the other takes over when it stops', async () => {
  const receiver = await startReceiver();
  const [a, b] = await Promise.all([startServerProcess([], { DATABASE_URL: schema.url }), startServerProcess([], { DATABASE_URL: schema.url })]);
  const post = (base: string, path: string, body: unknown) =>
    fetch(`${base}/genesys/1/cs${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const delivered = () => receiver.deliveries.map((d) => d.json.data.id);
  let bStopped = false;
  try {
    const created = await post(a.base, '/webhooks', { url: receiver.url, customer_id: 'X-HOOK' });
    assert.equal(created.status, 201);
    const from = ((await created.json()) as { position: number }).position;
    // node b learns of the webhook within its refresh (2 s); then both nodes try to deliver it
    await new Promise((r) => setTimeout(r, 2500));
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(String(((await (await post(i % 2 ? a.base : b.base, '/services/start', { customer_id: 'X-HOOK', service_type: 'A' })).json()) as { service_id: string }).service_id));
    for (const [i, id] of ids.entries()) assert.equal((await post(i % 2 ? b.base : a.base, `/services/${id}/end`, {})).status, 204);
    const events = await collectEvents(`${a.base}/genesys/1/cs/events?customer_id=X-HOOK`, 20, async () => undefined, { 'last-event-id': String(from) });
    const expected = events.map((e) => Number(e.id));
    await waitFor(async () => delivered(), (got) => got.length >= expected.length);
    await new Promise((r) => setTimeout(r, 500)); // a second delivery would come now
    assert.deepEqual([...delivered()].sort((x, y) => x - y), expected, 'each event once');

    // the nodes stop one after the other: the one left delivers what follows
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
    bStopped = true;
    const later = String(((await (await post(a.base, '/services/start', { customer_id: 'X-HOOK', service_type: 'B' })).json()) as { service_id: string }).service_id);
    const got = await waitFor(async () => receiver.deliveries.map((d) => d.json.data.service_id), (s) => s.includes(later));
    assert.ok(got.includes(later), 'delivered by the node left');
  } finally {
    a.child.kill('SIGTERM');
    if (!bStopped) b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    if (!bStopped) assert.equal(await b.exited, 0);
    await receiver.close();
  }
});
