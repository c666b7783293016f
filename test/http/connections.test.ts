// A client that pipelines requests and never reads the answers cannot grow the server: its
// connection is closed past MAX_PIPELINED unanswered requests and the requests after the bound do no
// work; a client pipelining a few requests and reading gets every answer.
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { MAX_PIPELINED } from '../../src/http/connections.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let port: number;
before(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
after(async () => t.close());

const open = async (): Promise<Socket> => {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
};

test('a client pipelining thousands of requests without reading is disconnected, and the server does not grow', { timeout: 20_000 }, async () => {
  const memory = () => process.memoryUsage().heapUsed + process.memoryUsage().external + process.memoryUsage().arrayBuffers;
  const baseline = memory();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, memory())), 5);
  const sockets = await Promise.all([open(), open()]);
  const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
  for (const socket of sockets) {
    socket.pause(); // never reads
    socket.write('GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3000)); // each answer is ~280 KB
  }
  await Promise.all(closed);
  await new Promise((r) => setTimeout(r, 200));
  clearInterval(sampler);
  const grownMb = (peak - baseline) / 1024 / 1024;
  assert.ok(grownMb < 150, `the server grew by ${grownMb.toFixed(0)} MB while answering two hostile connections`);
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(health.status, 200, 'others are served');
});

test('a client pipelining a few requests and reading gets every answer, in order', async () => {
  const socket = await open();
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  const count = MAX_PIPELINED - 1;
  let requests = '';
  for (let i = 0; i < count; i++) requests += `GET /genesys/1/cs/services/${1000 + i} HTTP/1.1\r\nHost: x\r\n\r\n`;
  socket.write(requests);
  for (let i = 0; i < 200 && (text.match(/HTTP\/1\.1 404/g) ?? []).length < count; i++) await new Promise((r) => setTimeout(r, 10));
  const ids = [...text.matchAll(/no service found for : (\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(ids, Array.from({ length: count }, (_, i) => 1000 + i));
  socket.destroy();
});
