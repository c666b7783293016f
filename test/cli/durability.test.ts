// Nothing acknowledged is lost: SIGKILL under load, then every 2xx is there exactly as acknowledged;
// SIGTERM finishes what is in flight and exits 0.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/app.js';
import { writeUntilGone, type Acknowledged } from '../helpers/load.js';
import { startServerProcess } from '../helpers/process.js';
import { NATS_SKIP, NATS_URL, streamMessages, waitFor } from '../helpers/nats.js';
import { collectEvents } from '../helpers/sse.js';
import { startReceiver } from '../helpers/receiver.js';
import { STORE_KIND, freshPostgresSchema } from '../helpers/stores.js';

const dir = tempDir('contextd-durability-');
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function databaseUrl(name: string): Promise<string> {
  if (STORE_KIND === 'postgres') {
    const schema = await freshPostgresSchema();
    cleanups.push(schema.drop);
    return schema.url;
  }
  return join(dir, `${name}.db`);
}

async function checkAcknowledged(base: string, acked: Acknowledged[]): Promise<void> {
  for (const record of acked) {
    const res = await fetch(`${base}/genesys/1/cs/services/${record.serviceId}?extensions=Ext`);
    assert.equal(res.status, 200, `acknowledged service ${record.serviceId} is there`);
    const service = (await res.json()) as { customer_id: string; completed?: unknown; disposition?: string; Ext: { n: number } };
    const n = Number(record.customerId.slice(4));
    assert.equal(service.customer_id, record.customerId);
    assert.deepEqual(service.Ext, { n });
    if (record.ended) assert.equal(service.disposition, `D${n}`, `acknowledged end of ${record.serviceId} is there`);
  }
}

test(`[${STORE_KIND}] SIGKILL under load loses nothing that was acknowledged, and leaves nothing half-written`, async () => {
  const url = await databaseUrl('kill');
  const server = await startServerProcess([], { DATABASE_URL: url });
  let killed = false;
  const acked = await writeUntilGone(server.base, 20_000, 64, (n) => {
    if (n >= 1500 && !killed) {
      killed = true;
      server.child.kill('SIGKILL');
    }
  });
  await server.exited;
  assert.ok(killed, 'the server was killed mid-load');
  assert.ok(acked.length >= 1500);

  const again = await startServerProcess([], { DATABASE_URL: url });
  try {
    await checkAcknowledged(again.base, acked);
    // every stored service is whole: readable, with its start event and its extension
    const exported = (await (await fetch(`${again.base}/genesys/1/cs/maintenance/services/stream?time_from=2000-01-01T00:00:00Z&export_content=true`)).json()) as {
      service_id: string | number;
      customer_id: string;
      started: { interaction_id: string };
      completed?: unknown;
      Ext: { n: number };
    }[];
    assert.ok(exported.length >= acked.length);
    for (const service of exported) {
      const n = Number(service.customer_id.slice(4));
      assert.equal(service.started.interaction_id, `IX-${n}`);
      assert.deepEqual(service.Ext, { n });
    }
    // the outbox holds an event exactly for each committed write: a start for every stored service, an end for every ended one
    const ended = exported.filter((service) => service.completed !== undefined);
    const events = await collectEvents(`${again.base}/genesys/1/cs/events?kinds=service.started,service.ended`, exported.length + ended.length, async () => undefined, { 'last-event-id': '0' }, 20_000);
    const ids = (kind: string) => events.filter((e) => e.event === kind).map((e) => String(e.data.service_id)).sort();
    assert.deepEqual(ids('service.started'), exported.map((service) => String(service.service_id)).sort());
    assert.deepEqual(ids('service.ended'), ended.map((service) => String(service.service_id)).sort());
    for (const record of acked) if (record.ended) assert.ok(ids('service.ended').includes(String(record.serviceId)), `the acknowledged end of ${record.serviceId} has its event`);
  } finally {
    again.child.kill('SIGTERM');
    await again.exited;
  }
});

test(`[${STORE_KIND}] SIGTERM under load: in-flight requests finish, no 5xx, exit 0, everything acknowledged is kept`, async () => {
  const url = await databaseUrl('term');
  const server = await startServerProcess([], { DATABASE_URL: url });
  let stopping = false;
  const began = Date.now();
  const acked = await writeUntilGone(server.base, 20_000, 64, (n) => {
    if (n >= 500 && !stopping) {
      stopping = true;
      server.child.kill('SIGTERM');
    }
  });
  assert.equal(await server.exited, 0, server.output());
  assert.ok(Date.now() - began < 30_000, 'stops in bounded time');
  const again = await startServerProcess([], { DATABASE_URL: url });
  try {
    await checkAcknowledged(again.base, acked);
  } finally {
    again.child.kill('SIGTERM');
    await again.exited;
  }
});

test(`[${STORE_KIND}] SIGTERM with slow clients open (half-sent headers, a half-sent body, an idle keep-alive): exit 0 at once`, async () => {
  const url = await databaseUrl('slow');
  const server = await startServerProcess([], { DATABASE_URL: url });
  const { port } = new URL(server.base);
  const open = (first: string) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(first);
        resolve(socket);
      });
      socket.on('error', () => undefined);
      socket.once('error', reject);
    });
  const sockets = [
    await open('GET /genesys/1/cs/services/1 HTTP/1.1\r\nHost: x\r\nX-Slow: '), // slowloris: the headers never end
    await open('POST /genesys/1/cs/services/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"custo'),
    await open('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'), // answered, then idle on keep-alive
  ];
  await new Promise((r) => setTimeout(r, 300));
  const began = Date.now();
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.output());
  assert.ok(Date.now() - began < 5000, `exited after ${Date.now() - began} ms`);
  for (const socket of sockets) socket.destroy();
});

test(`[${STORE_KIND}] Idempotency-Key retries after SIGKILL replay instead of acting again: one service per key`, async () => {
  const url = await databaseUrl('idem');
  const server = await startServerProcess([], { DATABASE_URL: url });
  const start = (base: string, i: number) =>
    fetch(`${base}/genesys/1/cs/services/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `crash-key-${i}` },
      body: JSON.stringify({ customer_id: `IDEM-${i}`, service_type: 'A' }),
    }).then(async (res) => ({ status: res.status, body: await res.text() }));
  const first = new Map<number, string>();
  let answered = 0;
  const attempts = Array.from({ length: 400 }, (_, i) =>
    start(server.base, i).then(
      (res) => {
        if (res.status === 201) first.set(i, JSON.parse(res.body).service_id);
        if (++answered === 100) server.child.kill('SIGKILL');
      },
      () => undefined, // no answer: the crash
    ),
  );
  await Promise.all(attempts);
  await server.exited;
  const again = await startServerProcess([], { DATABASE_URL: url });
  try {
    for (let i = 0; i < 400; i++) {
      const retry = await start(again.base, i);
      assert.equal(retry.status, 201, retry.body);
      const id = String(JSON.parse(retry.body).service_id);
      if (first.has(i)) assert.equal(id, String(first.get(i)), `key ${i}: the retry gets the first answer`);
      const services = (await (await fetch(`${again.base}/genesys/1/cs/customers/IDEM-${i}/services`)).json()) as { service_id: number }[];
      assert.deepEqual(services.map((s) => String(s.service_id)), [id], `key ${i}: one service, the one the retry names`);
    }
  } finally {
    again.child.kill('SIGTERM');
    await again.exited;
  }
});

test(`[${STORE_KIND}] SIGKILL while relaying to NATS: after restart the stream holds exactly one copy of every event`, { skip: NATS_SKIP }, async () => {
  const { connect } = await import('nats');
  const url = await databaseUrl('nats');
  const id = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const config = join(dir, `nats-${id}.yaml`);
  writeFileSync(config, `events:\n  nats:\n    url: ${NATS_URL}\n    stream: CONTEXTD_KILL_${id}\n    subject_prefix: contextd_kill_${id}\n`);
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  try {
    const server = await startServerProcess(['--config', config], { DATABASE_URL: url });
    let killed = false;
    await writeUntilGone(server.base, 20_000, 64, (n) => {
      if (n >= 1500 && !killed) {
        killed = true;
        server.child.kill('SIGKILL');
      }
    });
    await server.exited;
    const again = await startServerProcess(['--config', config], { DATABASE_URL: url });
    try {
      const events = await collectEvents(`${again.base}/genesys/1/cs/events`, 100_000, async () => undefined, { 'last-event-id': '0' }, 3000);
      assert.ok(events.length >= 1500);
      const messages = await waitFor(() => streamMessages(jsm, `CONTEXTD_KILL_${id}`), (m) => m.length >= events.length, 30_000);
      assert.deepEqual(
        messages.map((m) => m.msgId),
        events.map((e) => `_:${e.id}`),
        'one message per event, in outbox order',
      );
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  } finally {
    await jsm.streams.delete(`CONTEXTD_KILL_${id}`).catch(() => undefined);
    await nc.close();
  }
});

test(`[${STORE_KIND}] SIGKILL while delivering to a webhook: after restart every event has arrived, at least once, in order per service`, async () => {
  const url = await databaseUrl('webhook');
  const receiver = await startReceiver();
  // some answers take a moment, so that deliveries are in flight when the server dies
  receiver.answer = (_d, i) => (i % 7 === 0 ? { status: 204, delayMs: 20 } : 204);
  try {
    const server = await startServerProcess([], { DATABASE_URL: url });
    const created = await fetch(`${server.base}/genesys/1/cs/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: receiver.url }) });
    assert.equal(created.status, 201);
    const from = ((await created.json()) as { position: number }).position;
    let killed = false;
    await writeUntilGone(server.base, 20_000, 64, (n) => {
      if (n >= 1500 && !killed) {
        killed = true;
        server.child.kill('SIGKILL');
      }
    });
    await server.exited;
    const delivered = () => new Set(receiver.deliveries.filter((d) => d.answered === 204).map((d) => d.json.data.id));
    const before = delivered().size;
    const again = await startServerProcess([], { DATABASE_URL: url });
    try {
      const events = (await collectEvents(`${again.base}/genesys/1/cs/events`, 100_000, async () => undefined, { 'last-event-id': String(from) }, 3000)).map((e) => ({ id: Number(e.id) }));
      assert.ok(events.length >= 1500);
      await waitFor(async () => delivered(), (got) => events.every((e) => got.has(e.id)), 30_000);
      const got = delivered();
      assert.deepEqual(events.filter((e) => !got.has(e.id)).map((e) => e.id), [], 'every committed event arrived');
      assert.ok(before < events.length, 'some were delivered only after the restart');
      const byService = new Map<string, number[]>();
      for (const d of receiver.deliveries) {
        const service = d.json.data.service_id;
        if (service === undefined) continue;
        const ids = byService.get(service) ?? [];
        if (!ids.includes(d.json.data.id)) ids.push(d.json.data.id);
        byService.set(service, ids);
      }
      for (const [service, ids] of byService) assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `service ${service}: first arrivals in event order`);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  } finally {
    await receiver.close();
  }
});
