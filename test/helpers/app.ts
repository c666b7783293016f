// A real app on a real store (the matrix's), driven through Fastify's inject.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { join } from 'node:path';
import { openTestStore, tempDir, POSTGRES_URL, type TestStore } from './stores.js';
import pg from 'pg';
import { partitionsOf, type Partition } from '../../src/domain/tenancy.js';
import { openPartitionStore, partitionSchema } from '../../src/store/open.js';
import { searchPathOf } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/store.js';

export { tempDir };
export const BASE = '/genesys/1/cs';
export const EXC = 'com.genesyslab.gsg.services.contextservices.exceptions.';

export interface TestApp extends TestStore {
  app: FastifyInstance;
  request: (method: string, url: string, body?: unknown, headers?: Record<string, string>) => Promise<LightMyRequestResponse>;
  close: () => Promise<void>;
}

export async function openSqlite(dir: string): Promise<SqliteStore> {
  const store = new SqliteStore({ path: join(dir, 'contextd.db'), durability: 'full' });
  await store.migrate();
  return store;
}

/**
 * The tenant partitions' stores, opened the way the server opens them (a SQLite file beside the main
 * one, or a PostgreSQL schema named after the main one's); `drop` closes them and removes their data.
 */
async function openTenantStores(testStore: TestStore, partitions: Partition[], clock?: () => number): Promise<{ stores: Map<string, Store>; drop: () => Promise<void> }> {
  const database = testStore.kind === 'postgres' ? { kind: 'postgres' as const, url: testStore.url } : { kind: 'sqlite' as const, path: testStore.url };
  const stores = new Map<string, Store>();
  for (const partition of partitions) {
    if (partition.key === '') continue;
    const store = await openPartitionStore({ database, durability: 'full', poolSize: 4 }, partition, clock);
    await store.migrate();
    stores.set(partition.key, store);
  }
  return {
    stores,
    drop: async () => {
      await Promise.all([...stores.values()].map((s) => s.close()));
      if (testStore.kind !== 'postgres') return;
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      for (const partition of partitions) {
        if (partition.key !== '') await client.query(`DROP SCHEMA IF EXISTS "${partitionSchema(searchPathOf(testStore.url), partition)}" CASCADE`);
      }
      await client.end();
    },
  };
}

export async function createTestApp(options: Partial<Omit<AppOptions, 'store' | 'storeFor'>> = {}): Promise<TestApp> {
  // one clock for the app and its stores: a test's manual clock moves both
  const testStore = await openTestStore(options.clock);
  const tenants = await openTenantStores(testStore, partitionsOf(options.tenants ?? []), options.clock);
  const app = await buildApp({ ...options, store: testStore.store, storeFor: (partition) => tenants.stores.get(partition.key)! });
  await app.ready();
  return {
    ...testStore,
    app,
    request: (method, url, body, headers = {}) =>
      app.inject({
        method: method as 'GET',
        url: /^\/(genesys|health|openapi|docs|console)/.test(url) ? url : BASE + url,
        ...(body === undefined
          ? { headers }
          : { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }),
      }),
    close: async () => {
      await app.close();
      await tenants.drop();
      await testStore.destroy();
    },
  };
}

/** Starts a service and returns its id as the decimal text the server sent. */
export async function startService(t: TestApp, body: Record<string, unknown>): Promise<string> {
  const response = await t.request('POST', '/services/start', body);
  if (response.statusCode !== 201) throw new Error(`start failed: ${response.statusCode} ${response.body}`);
  const match = /"service_id":(\d+)/.exec(response.body);
  if (!match) throw new Error(`no service_id in ${response.body}`);
  return match[1];
}
