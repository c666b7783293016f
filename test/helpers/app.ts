// A real app on a real store (the matrix's), driven through Fastify's inject.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { join } from 'node:path';
import { openTestStore, tempDir, type TestStore } from './stores.js';

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

export async function createTestApp(options: Partial<Omit<AppOptions, 'store'>> = {}): Promise<TestApp> {
  const testStore = await openTestStore();
  const app = await buildApp({ ...options, store: testStore.store });
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
