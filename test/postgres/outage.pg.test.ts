// PostgreSQL going away: 503 JSON errors within the timeout, no crash, and recovery by itself.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { freePort } from '../helpers/process.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { POSTGRES_URL, freshPostgresSchema } from '../helpers/stores.js';
import { EXC } from '../helpers/app.js';

let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
before(async () => {
  schema = await freshPostgresSchema();
  const store = new PostgresStore({ url: schema.url });
  await store.migrate();
  await store.close();
});
after(async () => schema.drop());

function throughPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

test('the database going away gives 503 JSON errors fast; the server recovers when it returns', async () => {
  const target = new URL(POSTGRES_URL);
  const proxy = new CuttableProxy(await freePort(), target.hostname, Number(target.port || 5432));
  await proxy.open();
  const store = new PostgresStore({ url: throughPort(schema.url, proxy.port), connectTimeoutMs: 1000, queryTimeoutMs: 2000 });
  const app = await buildApp({ store });
  const start = () =>
    app.inject({ method: 'POST', url: '/genesys/1/cs/services/start', payload: { customer_id: 'O1', service_type: 'A' } });

  const ok = await start();
  assert.equal(ok.statusCode, 201);
  const id = ok.json().service_id;

  await proxy.cut();
  for (const request of [
    start(),
    app.inject({ method: 'GET', url: `/genesys/1/cs/services/${id}` }),
    app.inject({ method: 'GET', url: '/genesys/1/cs/customers/O1/services/active' }),
  ]) {
    const began = Date.now();
    const res = await request;
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().exception, `${EXC}StoreUnavailableException`);
    assert.ok(Date.now() - began < 5000, 'no hang past the timeouts');
  }
  const health = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(health.statusCode, 503);
  assert.equal(health.json().store.ok, false);

  await proxy.open();
  let recovered = false;
  for (let i = 0; i < 50 && !recovered; i++) {
    recovered = (await app.inject({ method: 'GET', url: '/health' })).statusCode === 200;
    if (!recovered) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(recovered, 'health is back');
  assert.equal((await start()).statusCode, 201);
  assert.equal((await app.inject({ method: 'GET', url: `/genesys/1/cs/services/${id}` })).statusCode, 200);

  await app.close();
  await store.close();
  await proxy.cut();
});

test('a closed port: 503, not a hang and not a crash', async () => {
  const store = new PostgresStore({ url: throughPort(POSTGRES_URL, await freePort()), connectTimeoutMs: 500 });
  const app = await buildApp({ store });
  const res = await app.inject({ method: 'GET', url: '/genesys/1/cs/services/1' });
  assert.equal(res.statusCode, 503);
  assert.match(res.json().message, /unreachable/);
  await app.close();
  await store.close();
});
