// Slow SSE subscribers cannot grow the server: one that stops reading is disconnected once its
// unsent output passes the bound, and a replay (Last-Event-ID: 0 over many pages of the outbox) is
// written with backpressure, so a subscriber that does not read holds little memory and, once it
// reads, gets every event in order.
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { parseServiceStart } from '../../src/domain/events.js';
import { SSE_MAX_BUFFERED } from '../../src/http/sse.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let port: number;
const serverSockets: Socket[] = [];
before(async () => {
  t = await createTestApp();
  t.app.server.on('connection', (socket: Socket) => serverSockets.push(socket));
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
after(async () => t.close());

/** Opens the event stream on a raw socket that reads nothing until told to. */
async function subscribe(lastEventId?: number): Promise<{ client: Socket; server: Socket }> {
  const known = serverSockets.length;
  const subscribers = t.app.events.subscriberCount;
  const client = connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  await new Promise((resolve) => client.once('connect', resolve));
  client.pause();
  client.write(`GET /genesys/1/cs/events HTTP/1.1\r\nHost: x\r\n${lastEventId === undefined ? '' : `Last-Event-ID: ${lastEventId}\r\n`}\r\n`);
  while (serverSockets.length === known || t.app.events.subscriberCount === subscribers) await new Promise((r) => setTimeout(r, 10));
  return { client, server: serverSockets[serverSockets.length - 1] };
}

const scope = () => [...t.app.scopes.values()][0];
// the longest ids the API takes: each event is about 700 bytes
const BIG = 'C'.repeat(256);

/** Starts `count` services (their events are big: long ids), 200 writes at a time. */
async function emitMany(count: number, onEach?: () => void): Promise<void> {
  for (let i = 0; i < count; i += 200) {
    const writes = Array.from({ length: Math.min(200, count - i) }, () => scope().store.startService(parseServiceStart({ customer_id: BIG, contact_key: BIG, service_type: 'A' }, Date.now())));
    await Promise.all(writes);
    onEach?.();
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 50));
}

test('a subscriber that stops reading is disconnected once its unsent output passes the bound', { timeout: 30_000 }, async () => {
  const { client, server } = await subscribe();
  let peak = 0;
  await emitMany(20_000, () => (peak = Math.max(peak, server.writableLength)));
  assert.ok(peak <= SSE_MAX_BUFFERED + 4096, `peak unsent output ${peak} bytes`);
  for (let i = 0; i < 100 && t.app.events.subscriberCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(t.app.events.subscriberCount, 0, 'the slow subscriber was cut off');
  client.destroy();
});

const REPLAYED = 10_000;

test('a replay of many pages to a subscriber that does not read is written with backpressure, then arrives whole and in order', { timeout: 60_000 }, async () => {
  const first = (await scope().store.lastEventId()) + 1;
  await emitMany(REPLAYED);
  const { client, server } = await subscribe(first - 1);
  await new Promise((r) => setTimeout(r, 300));
  // the socket's high-water mark and the one event that crossed it (the mark is 16 KiB on Node 20, 64 KiB from Node 22)
  assert.ok(server.writableLength <= server.writableHighWaterMark + 4096, `unsent output while the subscriber does not read: ${server.writableLength} bytes (mark ${server.writableHighWaterMark})`);
  assert.equal(t.app.events.subscriberCount, 1, 'still connected: a replay never overflows');
  // now it reads: every event since Last-Event-ID, once, in order
  const ids: number[] = [];
  let buffer = '';
  client.setEncoding('utf8');
  client.on('data', (chunk: string) => {
    buffer += chunk;
    for (const match of buffer.matchAll(/^id: (\d+)\n/gm)) ids.push(Number(match[1]));
    buffer = buffer.slice(buffer.lastIndexOf('\n'));
  });
  client.resume();
  // a busy machine (the whole suite at once) may take several seconds to stream them
  for (let i = 0; i < 1000 && ids.length < REPLAYED; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(ids.length, REPLAYED);
  assert.equal(ids[0], first);
  assert.ok(ids.every((id, i) => i === 0 || id === ids[i - 1] + 1), 'in order, no gaps, no repeats');
  client.destroy();
});
