// A real app on a real store file, driven through Fastify's inject.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

export const BASE = '/genesys/1/cs';

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  dir: string;
  request: (method: string, url: string, body?: unknown, headers?: Record<string, string>) => Promise<LightMyRequestResponse>;
  close: () => Promise<void>;
}

export function tempDir(prefix = 'contextd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function openSqlite(dir: string): Promise<SqliteStore> {
  const store = new SqliteStore({ path: join(dir, 'contextd.db'), durability: 'full' });
  await store.migrate();
  return store;
}

export async function createTestApp(options: Partial<AppOptions> = {}): Promise<TestApp> {
  const dir = tempDir();
  const store = options.store ?? (await openSqlite(dir));
  const app = await buildApp({ ...options, store });
  await app.ready();
  return {
    app,
    store,
    dir,
    request: (method, url, body, headers = {}) =>
      app.inject({
        method: method as 'GET',
        url: url.startsWith('/') && !url.startsWith(BASE) && !url.startsWith('/health') && !url.startsWith('/openapi') ? BASE + url : url,
        ...(body === undefined
          ? { headers }
          : { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }),
      }),
    close: async () => {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
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

export const EXC = 'com.genesyslab.gsg.services.contextservices.exceptions.';
