// The server's own routes beside the API: / leads to the console, /ready tells a load balancer whether
// every store of the node can be read and is migrated.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp({ tenants: [{ id: 7, name: 'Acme', groups: ['Sales'] }] });
});
after(async () => t.close());

test('GET / redirects to the console', async () => {
  const res = await t.app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 302);
  assert.equal(res.headers.location, '/console/');
});

test('GET /ready: 200 while every partition is migrated, 503 naming what is missing', async () => {
  const ready = await t.app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 200);
  const body = ready.json();
  assert.equal(body.status, 'ready');
  // the main store and the tenant's two partitions (no group, Sales)
  assert.equal(body.stores.length, 3);
  assert.ok(body.stores.every((s: { ok: boolean; pending_migrations: number[] }) => s.ok && s.pending_migrations.length === 0));

  const [{ version }] = await t.raw('SELECT max(version) AS version FROM schema_migrations');
  await t.raw('DELETE FROM schema_migrations WHERE version = ? RETURNING version', version);
  const missing = await t.app.inject({ method: 'GET', url: '/ready' });
  assert.equal(missing.statusCode, 503);
  const main = missing.json().stores.find((s: { partition: string }) => s.partition === '');
  assert.deepEqual(main.pending_migrations, [Number(version)]);
  assert.match(main.detail, /contextd migrate/);
  assert.equal(missing.json().status, 'not ready');
  await t.raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'restored', '2026-01-01T00:00:00Z') RETURNING version", version);
  assert.equal((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
});
