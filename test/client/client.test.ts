// contextd/client against a live server: the package export, an IVR's calls typed end to end,
// retries after a 503 and after a lost answer (the Idempotency-Key it sets makes the write act once),
// 64-bit ids beyond 2^53 kept exact, and an event stream that resumes with Last-Event-ID after its
// connection is reset.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { createContextClient } from '../../src/client/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers/app.js';
import { freePort, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { CuttableProxy } from '../helpers/proxy.js';

const BIG = 9007199254740993n; // 2^53 + 1: a JS number would read it as …992
const dir = tempDir('contextd-client-');
let server: ServerProcess;

before(async () => {
  // a store whose next service id is beyond 2^53
  const path = join(dir, 'client.db');
  const store = new SqliteStore({ path, durability: 'full' });
  await store.migrate();
  await store.close();
  const db = new Database(path);
  db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'services'").run(BIG - 1n);
  db.close();
  server = await startServerProcess([], { DATABASE_URL: path });
});
after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
});

test('contextd/client is exported by the package (the built bundle)', async () => {
  const specifier = 'contextd/client';
  const exported = (await import(specifier)) as { createContextClient: unknown };
  assert.equal(typeof exported.createContextClient, 'function');
});

test('an IVR flow, typed from the OpenAPI document; a 64-bit service id beyond 2^53 stays exact', async () => {
  const cs = createContextClient({ baseUrl: server.base });
  const started = await cs.POST('/genesys/1/cs/services/start', { body: { contact_key: '5550100', service_type: 'Billing', media_type: 'voice' } });
  assert.equal(started.response.status, 201);
  const serviceId = started.data!.service_id;
  assert.equal(serviceId, BIG, 'read as the exact bigint');
  const path = { service_id: String(serviceId) };
  const state = await cs.POST('/genesys/1/cs/services/{service_id}/states/start', { params: { path }, body: { state_type: 'Customer identification' } });
  assert.equal(state.response.status, 201);
  const found = await cs.GET('/genesys/1/cs/services/anonymous/{contact_key}/active', { params: { path: { contact_key: '5550100' }, query: { active_states: 'true' } } });
  assert.equal(found.data?.[0].service_id, BIG);
  assert.equal(found.data?.[0].active_states?.[0].state_type, 'Customer identification');
  const missing = await cs.GET('/genesys/1/cs/services/{service_id}', { params: { path: { service_id: '424242' } } });
  assert.equal(missing.response.status, 404);
  assert.match(String((missing.error as { exception: string }).exception), /NotFoundException$/);
});

/** An HTTP proxy in front of the server that answers by a plan: 503 itself, or lose the server's answer after forwarding. */
async function plannedProxy(plan: (req: IncomingMessage, n: number) => 'forward' | '503' | 'lose answer'): Promise<{ base: string; seen: IncomingMessage[]; close: () => Promise<void> }> {
  const seen: IncomingMessage[] = [];
  const target = new URL(server.base);
  const proxy: Server = createServer((req, res) => {
    const action = plan(req, seen.push(req));
    if (action === '503') return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"store unavailable","exception":"StoreUnavailableException"}');
    const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      // the server acted and answered, but the answer never reaches the client
      if (action === 'lose answer') return void answer.resume().on('end', () => req.socket.destroy());
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => proxy.close(() => resolve())) };
}

test('a 503 is retried; an answer lost after the write committed is retried with the same Idempotency-Key, and the write acts once', async () => {
  const flaky = await plannedProxy((_req, n) => (n === 1 ? '503' : 'forward'));
  try {
    const cs = createContextClient({ baseUrl: flaky.base, retryDelayMs: 1 });
    const res = await cs.POST('/genesys/1/cs/services/start', { body: { customer_id: 'RETRY-503', service_type: 'A' } });
    assert.equal(res.response.status, 201);
    assert.equal(flaky.seen.length, 2);
  } finally {
    await flaky.close();
  }

  const lossy = await plannedProxy((_req, n) => (n === 1 ? 'lose answer' : 'forward'));
  try {
    const cs = createContextClient({ baseUrl: lossy.base, retryDelayMs: 1 });
    const res = await cs.POST('/genesys/1/cs/services/start', { body: { customer_id: 'RETRY-LOST', service_type: 'A' } });
    assert.equal(res.response.status, 201);
    assert.equal(res.response.headers.get('idempotent-replayed'), 'true', 'the second attempt got the first answer');
    const keys = lossy.seen.map((req) => req.headers['idempotency-key']);
    assert.equal(keys.length, 2);
    assert.ok(keys[0] && keys[0] === keys[1], 'one key for both attempts');
  } finally {
    await lossy.close();
  }
  const services = await createContextClient({ baseUrl: server.base }).GET('/genesys/1/cs/customers/{customer_id}/services', { params: { path: { customer_id: 'RETRY-LOST' } } });
  assert.equal(services.data?.length, 1, 'one service, not two');
});

test('a refused write is not retried', async () => {
  const counting = await plannedProxy(() => 'forward');
  try {
    const res = await createContextClient({ baseUrl: counting.base, retryDelayMs: 1 }).POST('/genesys/1/cs/services/start', { body: { service_type: 'A' } });
    assert.equal(res.response.status, 400);
    assert.equal(counting.seen.length, 1);
  } finally {
    await counting.close();
  }
});

test('events(): the stream resumes after its connection is reset, with no gap and no repeat', { timeout: 30_000 }, async () => {
  const target = new URL(server.base);
  const port = await freePort();
  const proxy = new CuttableProxy(port, target.hostname, Number(target.port));
  await proxy.open();
  const abort = new AbortController();
  const cs = createContextClient({ baseUrl: `http://127.0.0.1:${port}`, retryDelayMs: 10 });
  const direct = createContextClient({ baseUrl: server.base });
  try {
    // from the start of the outbox: the first service may commit before the stream has subscribed
    const stream = cs.events({ customerId: 'EVENTS-1', kinds: ['service.started'], lastEventId: '0', signal: abort.signal });
    const received: string[] = [];
    const reading = (async () => {
      for await (const event of stream) {
        received.push(String(event.data.service_id));
        if (received.length === 3) return;
      }
    })();
    const start = async () => String((await direct.POST('/genesys/1/cs/services/start', { body: { customer_id: 'EVENTS-1', service_type: 'A' } })).data!.service_id);
    const until = async (n: number) => {
      for (let i = 0; i < 500 && received.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const first = await start();
    await until(1);
    proxy.reset();
    // written while the client is disconnected: it must arrive after the resume
    const second = await start();
    const third = await start();
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    assert.deepEqual(received, [first, second, third]);
  } finally {
    abort.abort();
    await proxy.cut();
  }
});
