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

test('GET /metrics: requests by route and status, group commits, pool, subscribers and Node figures, in the Prometheus format', async () => {
  const headers = { ContactCenterId: '7' };
  assert.equal((await t.request('POST', '/services/start', { customer_id: 'M-1', service_type: 'A' }, headers)).statusCode, 201);
  assert.equal((await t.request('GET', '/services/abc', undefined, headers)).statusCode, 400);
  await t.app.inject({ method: 'GET', url: '/nowhere' });
  const res = await t.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain/);
  const text = res.body;
  assert.match(text, /contextd_http_request_duration_seconds_count\{method="POST",route="\/genesys\/1\/cs\/services\/start",status_code="201"\} 1\n/);
  assert.match(text, /contextd_http_request_duration_seconds_count\{method="GET",route="\/genesys\/1\/cs\/services\/:service_id",status_code="400"\} 1\n/);
  // a URL no route matches is one series, whatever the URL
  assert.match(text, /contextd_http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1\n/);
  assert.match(text, /contextd_group_commit_writes_count\{partition="7"\} [1-9]/);
  assert.match(text, /contextd_group_commit_duration_seconds_bucket\{le="[^"]+",partition="7"\} [1-9]/);
  assert.match(text, /contextd_sse_subscribers 0\n/);
  assert.match(text, /nodejs_eventloop_lag_seconds /);
  assert.match(text, /contextd_sweeps_total 0\n/);
  await t.app.sweeper.runOnce();
  assert.match((await t.app.inject({ method: 'GET', url: '/metrics' })).body, /contextd_sweeps_total 1\n/);
  if (t.kind === 'postgres') assert.match(text, /contextd_store_connections\{partition="7",state="total"\} \d+/);
});

test('every 4xx is logged at info with its reason, exception and request id', async () => {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void lines.push(JSON.parse(line)) };
  const logged = await createTestApp({ logger: { level: 'info', stream } });
  try {
    const res = await logged.request('POST', '/services/start', { service_type: 'A' });
    assert.equal(res.statusCode, 400);
    const refused = lines.find((l) => l.msg === 'request refused');
    assert.ok(refused, 'a refusal line');
    assert.equal(refused.level, 30);
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.reason, res.json().message);
    assert.equal(refused.exception, res.json().exception);
    assert.equal(typeof refused.reqId, 'string');
    // refusals from outside the error mapper too: an unknown route
    await logged.app.inject({ method: 'GET', url: '/genesys/1/cs/nowhere' });
    assert.ok(lines.some((l) => l.msg === 'request refused' && l.statusCode === 404 && /^no route GET/.test(String(l.reason))));
  } finally {
    await logged.close();
  }
});
