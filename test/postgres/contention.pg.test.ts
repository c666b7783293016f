// Many clients writing to the same few services on PostgreSQL: writes to one service serialize
// (every batch locks its services first, in id order), so there are no deadlocks and no 5xx, and
// the rate stays far from a crawl.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { BASE, createTestApp, startService, type TestApp } from '../helpers/app.js';
import { POSTGRES_URL } from '../helpers/stores.js';

let t: TestApp;
// a second node on the same database: its batches run beside the first node's
let secondStore: PostgresStore;
let second: FastifyInstance;
before(async () => {
  t = await createTestApp();
  assert.equal(t.kind, 'postgres', 'run with CONTEXTD_TEST_STORE=postgres');
  secondStore = new PostgresStore({ url: t.url });
  second = await buildApp({ store: secondStore });
});
after(async () => {
  await second.close();
  await secondStore.close();
  await t.close();
});

/** Half the clients go through each node. */
const through = (client: number) => (method: string, url: string, body?: unknown) =>
  client % 2 === 0
    ? t.request(method, url, body)
    : second.inject({ method: method as 'POST', url: BASE + url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body ?? {}) });

async function deadlocks(): Promise<number> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  const { rows } = await client.query('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()');
  await client.end();
  return Number(rows[0].deadlocks);
}

test('50 clients on two nodes writing states, tasks, ends and extensions to 5 shared services: no deadlock, no 5xx', { timeout: 120_000 }, async () => {
  const services = await Promise.all(Array.from({ length: 5 }, (_, i) => startService(t, { customer_id: `SHARED-${i}`, service_type: 'A' })));
  const before = await deadlocks();
  const statuses = new Map<number, number>();
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  await Promise.all(
    Array.from({ length: 50 }, async (_, client) => {
      const request = through(client);
      for (let round = 0; round < 12; round++) {
        // each client touches the services in its own order, as independent clients do
        const service = services[(client + round * 3) % services.length];
        const other = services[(client * 7 + round) % services.length];
        const state = await request('POST', `/services/${service}/states/start`, { state_type: 'S' });
        count(state.statusCode);
        const task = await request('POST', `/services/${other}/tasks/start`, { task_type: 'T' });
        count(task.statusCode);
        count((await request('PUT', `/services/${service}/extensions/E${client % 3}`, { round })).statusCode);
        if (state.statusCode === 201) count((await request('POST', `/services/${service}/states/${state.json().state_id}/end`, {})).statusCode);
        if (task.statusCode === 201) count((await request('POST', `/services/${other}/tasks/${task.json().task_id}/end`, {})).statusCode);
        count((await request('POST', `/customers/SHARED-${client % 4}/services/${other}`, {})).statusCode);
        // ending a shared service: the first end wins, the others are 409 Conflict
        if (round % 4 === 3) count((await request('POST', `/services/${service}/end`, {})).statusCode);
      }
    }),
  );
  const summary = JSON.stringify([...statuses]);
  for (const status of statuses.keys()) assert.ok(status < 300 || status === 409, `status ${status} answered: ${summary}`);
  assert.equal(await deadlocks(), before, `no deadlock (${summary})`);
});
