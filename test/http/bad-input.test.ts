// Input that must be refused with a clear 400 (or kept exactly), whatever way it comes in: numbers
// beyond the double range, ends before starts, prototype keys through the path, transition times,
// malformed URLs and over-long request heads over a real socket.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

describe('numbers beyond the double range', () => {
  for (const [what, body] of [
    ['in a start extension', '{"customer_id":"BIG","service_type":"A","Cart":{"total":1e400}}'],
    ['negative, in an array', '{"customer_id":"BIG","service_type":"A","Cart":{"items":[1,-1e400]}}'],
    ['with a long mantissa', `{"customer_id":"BIG","service_type":"A","Cart":{"total":${'9'.repeat(400)}.5}}`],
  ]) {
    test(`${what}: 400 naming the field, nothing stored`, async () => {
      const res = await t.request('POST', '/services/start', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().exception, `${EXC}ValidationException`);
      assert.match(res.json().message, /^the number at Cart\.(total|items\[1\]) is too large to be represented/);
    });
  }
  test('through PUT of one extension too; the store stays empty', async () => {
    const id = await startService(t, { customer_id: 'BIG2', service_type: 'A' });
    const res = await t.request('PUT', `/services/${id}/extensions/Cart`, '{"total":1E+400}');
    assert.equal(res.statusCode, 400);
    assert.match(res.json().message, /total is too large/);
    assert.deepEqual(await t.raw('SELECT * FROM extensions'), []);
    assert.equal((await t.raw("SELECT count(*) AS n FROM services WHERE customer_id = 'BIG'"))[0].n, 0);
  });
  test('large but finite numbers and big integers are kept exactly', async () => {
    const id = await startService(t, { customer_id: 'BIG3', service_type: 'A', Cart: { total: 1.5e300 } });
    const res = await t.request('GET', `/services/${id}?extensions=Cart`);
    assert.equal(res.json().Cart.total, 1.5e300);
  });
});

describe('big integers echoed in an error message', () => {
  // found by the fuzz test: a value beyond 2^53 parses as a bigint, which JSON.stringify cannot show
  for (const [path, body, named] of [
    ['/metadata/tasks/extensions', '{"name":{"":[-9007199254740993]}}', /name must start with a letter.*-9007199254740993/],
    ['/metadata/services/extensions', '{"name":"X","type":[9007199254740993]}', /type must be single-valued or multi-valued, got \[9007199254740993\]/],
  ] as const) {
    test(`POST ${path} ${body}: 400 showing the value exactly`, async () => {
      const res = await t.request('POST', path, body);
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().message, named);
    });
  }
});

describe('an end before its start', () => {
  test('service, state and task ends earlier than their start: 400 naming both times, nothing changed', async () => {
    const id = await startService(t, { customer_id: 'EARLY', service_type: 'A', timestamp: '2026-01-02T10:00:00.000Z' });
    const state = (await t.request('POST', `/services/${id}/states/start`, { state_type: 'S', timestamp: '2026-01-02T10:05:00.000Z' })).json().state_id;
    const task = (await t.request('POST', `/services/${id}/tasks/start`, { task_type: 'T', timestamp: '2026-01-02T10:06:00.000Z' })).json().task_id;
    for (const [url, start] of [
      [`/services/${id}/end`, '2026-01-02T10:00:00.000Z'],
      [`/services/${id}/states/${state}/end`, '2026-01-02T10:05:00.000Z'],
      [`/services/${id}/tasks/${task}/end`, '2026-01-02T10:06:00.000Z'],
    ]) {
      const res = await t.request('POST', url, { timestamp: '2026-01-02T09:59:59.000Z' });
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().message.includes('2026-01-02T09:59:59.000Z') && res.json().message.includes(start), true, res.json().message);
    }
    const transition = await t.request('POST', `/services/${id}/states/transition`, { from: { state_id: state }, to: { state_type: 'S2' }, timestamp: '2026-01-02T10:04:00.000Z' });
    assert.equal(transition.statusCode, 400, 'a transition ending its old state before it started');
    const service = (await t.request('GET', `/services/${id}?active_states=true&active_tasks=true`)).json();
    assert.equal(service.completed, undefined);
    assert.equal(service.active_states.length, 1, 'no new state from the refused transition');
    assert.equal(service.active_tasks.length, 1);
    assert.equal((await t.request('POST', `/services/${id}/end`, { timestamp: '2026-01-02T10:00:00.000Z' })).statusCode, 204, 'an end at the start itself is fine');
  });
});

describe('a transition honours from.timestamp and to.timestamp', () => {
  test('the old state ends at from.timestamp, the new one starts at to.timestamp; the top-level one is the default', async () => {
    const id = await startService(t, { customer_id: 'TRANS', service_type: 'A', timestamp: '2026-01-02T10:00:00.000Z' });
    const first = (await t.request('POST', `/services/${id}/states/start`, { state_type: 'S1', timestamp: '2026-01-02T10:00:00.000Z' })).json().state_id;
    const res = await t.request('POST', `/services/${id}/states/transition`, {
      from: { state_id: first, timestamp: '2026-01-02T10:01:00.000Z' },
      to: { state_type: 'S2', timestamp: '2026-01-02T10:02:00.000Z' },
      timestamp: '2026-01-02T10:09:00.000Z',
    });
    assert.equal(res.statusCode, 201, res.body);
    const second = res.json().state_id;
    const old = (await t.request('GET', `/services/${id}/states/${first}`)).json();
    const next = (await t.request('GET', `/services/${id}/states/${second}`)).json();
    assert.equal(old.completed.timestamp, '2026-01-02T10:01:00.000Z');
    assert.equal(next.started.timestamp, '2026-01-02T10:02:00.000Z');
    const third = (await t.request('POST', `/services/${id}/states/transition`, { from: { state_id: second }, to: { state_type: 'S3' }, timestamp: '2026-01-02T10:09:00.000Z' })).json().state_id;
    assert.equal((await t.request('GET', `/services/${id}/states/${third}`)).json().started.timestamp, '2026-01-02T10:09:00.000Z');
    const bad = await t.request('POST', `/services/${id}/states/transition`, { from: { state_id: third, timestamp: 'yesterday' }, to: { state_type: 'S4' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /from\.timestamp/);
  });
});

describe('prototype keys: one rule for every way in', () => {
  test('an extension named constructor holding prototype is refused through PUT, as in a body', async () => {
    const id = await startService(t, { customer_id: 'PROTO', service_type: 'A' });
    const viaBody = await t.request('POST', `/services/${id}/states/start`, '{"state_type":"S","constructor":{"prototype":{"x":1}}}');
    assert.equal(viaBody.statusCode, 400);
    const viaPath = await t.request('PUT', `/services/${id}/extensions/constructor`, { prototype: { polluted: true } });
    assert.equal(viaPath.statusCode, 400, viaPath.body);
    assert.equal(viaPath.json().exception, `${EXC}ValidationException`);
    const plain = await t.request('PUT', `/services/${id}/extensions/constructor`, { brand: 'Acme' });
    assert.equal(plain.statusCode, 200, 'constructor without prototype is an ordinary name');
    const read = await t.request('GET', `/services/${id}?extensions=constructor`);
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json().constructor, { brand: 'Acme' });
  });
});

describe('malformed requests over a real socket answer {message, exception}', () => {
  let port: number;
  before(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  const send = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });

  test('invalid UTF-8 percent-escapes in a path: 400', async () => {
    for (const path of ['/genesys/1/cs/customers/%C0%AF/services', '/genesys/1/cs/services/%FF', '/genesys/1/cs/profiles/%E0%A4%A']) {
      const res = await send(path);
      assert.equal(res.status, 400, path);
      assert.deepEqual(Object.keys(JSON.parse(res.body)).sort(), ['exception', 'message'], res.body);
    }
  });
  test('an over-long URL or header block: 431 in the same shape', async () => {
    for (const [path, headers] of [
      [`/genesys/1/cs/services/${'1'.repeat(20_000)}`, {}],
      ['/genesys/1/cs/services/1', { 'x-padding': 'a'.repeat(20_000) }],
    ] as const) {
      const res = await send(path, headers);
      assert.equal(res.status, 431);
      const body = JSON.parse(res.body);
      assert.deepEqual(Object.keys(body).sort(), ['exception', 'message'], res.body);
      assert.equal(body.exception, `${EXC}BadRequestException`);
    }
  });
});
