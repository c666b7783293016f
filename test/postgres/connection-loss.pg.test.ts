// Losing PostgreSQL connections in each way a database does it — reset (RST), closed (FIN, as a
// restart does), terminated by the server (pg_terminate_backend), silently dropped (blackhole) — under
// load, against a real `contextd serve` process: it never exits, answers 503 (never 500) within the
// connect + query timeouts while the database is away, and serves writes again once it is back.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { tempDir } from '../helpers/app.js';
import { freePort, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { POSTGRES_URL, freshPostgresSchema } from '../helpers/stores.js';

const CONNECT_MS = 500;
const QUERY_MS = 1000;
const APP = 'contextd-connection-loss';

let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
let proxy: CuttableProxy;
let server: ServerProcess;

before(async () => {
  schema = await freshPostgresSchema();
  const store = new PostgresStore({ url: schema.url });
  await store.migrate();
  await store.close();
  const target = new URL(POSTGRES_URL);
  proxy = new CuttableProxy(await freePort(), target.hostname, Number(target.port || 5432));
  await proxy.open();
  const url = new URL(schema.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  url.searchParams.set('application_name', APP);
  const dir = tempDir();
  const config = join(dir, 'contextd.yaml');
  writeFileSync(config, `pg_connect_timeout_ms: ${CONNECT_MS}\npg_query_timeout_ms: ${QUERY_MS}\npool_size: 4\n`);
  server = await startServerProcess(['--config', config], { DATABASE_URL: url.toString() });
});
after(async () => {
  if (server?.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await proxy?.cut();
  await schema?.drop();
});

interface Outcome {
  status: number;
  ms: number;
  body: string;
}

async function call(method: string, path: string, body?: unknown): Promise<Outcome> {
  const began = Date.now();
  try {
    const res = await fetch(`${server.base}/genesys/1/cs${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, ms: Date.now() - began, body: await res.text() };
  } catch (error) {
    // the server is gone (or dropped the connection): status 0, and the loop stops
    return { status: 0, ms: Date.now() - began, body: `${(error as Error).message}: ${server.output().slice(-2000)}` };
  }
}

/** Writes and reads from 20 clients while `lose` takes the connections away; returns every outcome. */
async function underLoad(lose: () => Promise<void> | void, awayMs: number, bringBack: () => Promise<void> | void): Promise<Outcome[]> {
  const seed = await call('POST', '/services/start', { customer_id: 'LOSS', service_type: 'A' });
  assert.equal(seed.status, 201, seed.body);
  const serviceId = JSON.parse(seed.body).service_id;
  const outcomes: Outcome[] = [];
  let running = true;
  const clients = Array.from({ length: 20 }, async (_, i) => {
    while (running && server.child.exitCode === null) {
      const kind = i % 4;
      outcomes.push(
        await (kind === 0
          ? call('POST', '/services/start', { customer_id: `LOSS-${i}`, service_type: 'A' })
          : kind === 1
            ? call('POST', `/services/${serviceId}/states/start`, { state_type: 'S' })
            : kind === 2
              ? call('GET', `/services/${serviceId}`)
              : call('GET', '/customers/LOSS/services/active')),
      );
    }
  });
  await new Promise((r) => setTimeout(r, 200));
  await lose();
  await new Promise((r) => setTimeout(r, awayMs));
  await bringBack();
  await new Promise((r) => setTimeout(r, 200));
  running = false;
  await Promise.all(clients);
  return outcomes;
}

async function recovers(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await call('POST', '/services/start', { customer_id: 'BACK', service_type: 'A' });
    if (res.status === 201) return;
    assert.equal(res.status, 503, res.body);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('writes did not come back');
}

function checkOutcomes(outcomes: Outcome[], limitMs: number): void {
  assert.equal(server.child.exitCode, null, `the server exited: ${server.output()}`);
  const statuses = new Map<number, number>();
  for (const o of outcomes) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
  for (const o of outcomes) {
    assert.ok([200, 201, 503].includes(o.status), `status ${o.status}: ${o.body} (all: ${JSON.stringify([...statuses])})`);
    if (o.status === 503) assert.match(o.body, /StoreUnavailableException/);
  }
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  if (process.env.SHOW) console.log({ slowest, statuses: [...statuses] });
  assert.ok(slowest <= limitMs, `slowest answer ${slowest} ms > ${limitMs} ms`);
}

describe('losing the database connections under load', () => {
  const bound = CONNECT_MS + QUERY_MS + 300; // the promise, plus scheduling slack on two shared cores

  test('reset (TCP RST)', async () => {
    checkOutcomes(await underLoad(() => proxy.reset(), 300, () => undefined), bound);
    await recovers();
  });

  test('closed (FIN), as in a database restart', async () => {
    checkOutcomes(await underLoad(() => proxy.finish(), 300, () => undefined), bound);
    await recovers();
  });

  test('terminated by the server (pg_terminate_backend)', async () => {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    const terminate = async () => {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [APP]);
    };
    checkOutcomes(await underLoad(terminate, 300, terminate), bound);
    await admin.end();
    await recovers();
  });

  test('blackholed: every request answers within the connect + query timeouts, then recovers', async () => {
    const outcomes = await underLoad(() => proxy.blackhole(), 3 * (CONNECT_MS + QUERY_MS), () => proxy.restore());
    checkOutcomes(outcomes, bound);
    assert.ok(outcomes.some((o) => o.status === 503), 'the outage was seen');
    await recovers();
  });
});
