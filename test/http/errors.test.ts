import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp({ limits: { bodyBytes: 4096 } });
});
after(async () => t.close());

function assertError(res: { statusCode: number; json: () => { message: string; exception: string } }, status: number, exception: string) {
  assert.equal(res.statusCode, status);
  const body = res.json();
  assert.equal(body.exception, EXC + exception);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
}

test('malformed JSON → 400 ValidationException', async () => {
  assertError(await t.request('POST', '/services/start', '{"customer_id": '), 400, 'ValidationException');
});

test('a body over the limit → 413', async () => {
  const res = await t.request('POST', '/services/start', { customer_id: 'C', service_type: 'A', Pad: 'x'.repeat(10_000) });
  assertError(res, 413, 'PayloadTooLargeException');
});

test('an unsupported media type → 415', async () => {
  const res = await t.app.inject({ method: 'POST', url: '/genesys/1/cs/services/start', payload: 'customer_id=C', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assertError(res, 415, 'UnsupportedMediaTypeException');
  const text = await t.app.inject({ method: 'POST', url: '/genesys/1/cs/services/start', payload: 'hi', headers: { 'content-type': 'text/plain' } });
  assertError(text, 415, 'UnsupportedMediaTypeException');
});

test('application/json;charset=UTF-8 is accepted', async () => {
  const res = await t.app.inject({
    method: 'POST',
    url: '/genesys/1/cs/services/start',
    payload: JSON.stringify({ customer_id: 'C', service_type: 'A' }),
    headers: { 'content-type': 'application/json;charset=UTF-8' },
  });
  assert.equal(res.statusCode, 201);
});

test('unknown route → 404 JSON; wrong method → 405 with Allow', async () => {
  assertError(await t.request('GET', '/genesys/1/cs/nothing/here'), 404, 'UnknownRouteException');
  assertError(await t.request('GET', '/elsewhere'), 404, 'UnknownRouteException');
  const res = await t.request('PATCH', '/services/1');
  assertError(res, 405, 'MethodNotAllowedException');
  assert.deepEqual(String(res.headers.allow).split(', ').sort(), ['DELETE', 'GET', 'PUT']);
  assertError(await t.request('GET', '/services/start'), 400, 'ValidationException'); // GET /services/{id} with a non-numeric id
  assertError(await t.request('DELETE', '/services/start'), 400, 'ValidationException');
  assertError(await t.request('GET', '/services/1/end'), 405, 'MethodNotAllowedException');
});

test('prototype-pollution keys are rejected and write nothing', async () => {
  const before = (await t.request('GET', '/customers/C-proto/services')).json().length;
  assertError(await t.request('POST', '/services/start', '{"customer_id":"C-proto","service_type":"A","__proto__":{"x":1}}'), 400, 'ValidationException');
  assertError(
    await t.request('POST', '/services/start', '{"customer_id":"C-proto","service_type":"A","constructor":{"prototype":{"x":1}}}'),
    400,
    'ValidationException',
  );
  assert.equal((await t.request('GET', '/customers/C-proto/services')).json().length, before);
  assert.equal(({} as Record<string, unknown>).x, undefined);
  const id = await startService(t, { customer_id: 'C-proto', service_type: 'A' });
  assertError(await t.request('PUT', `/services/${id}/extensions/__proto__`, { x: 1 }), 400, 'ValidationException');
});

test('validation messages name the field', async () => {
  const res = await t.request('POST', '/services/start', { customer_id: 'C', service_type: 'A', application_id: 'seven' });
  assertError(res, 400, 'ValidationException');
  assert.match(res.json().message, /application_id/);
  const transition = await t.request('POST', '/services/1/states/transition', { from: {}, to: { state_type: 1 } });
  assert.match(transition.json().message, /from\.state_id/);
});

test('GET /health answers with the store status', async () => {
  const res = await t.request('GET', '/health');
  assert.equal(res.statusCode, 200);
  assert.deepEqual({ ...(res.json() as object), version: undefined }, { status: 'ok', store: { kind: t.kind, ok: true }, version: undefined });
});

test('cview.not-found-status 400 turns the journey side\'s 404s into 400s, not the profile and metadata side\'s', async () => {
  const strict = await createTestApp({ notFoundStatus: 400 });
  try {
    for (const url of ['/services/424242', '/services/424242/states', '/services/424242/tasks/1']) {
      const res = await strict.request('GET', url);
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().exception, `${EXC}NotFoundException`);
    }
    for (const url of ['/profiles/NOBODY', '/metadata/services/extensions/Nope', '/metadata/identification-keys/nope']) {
      const res = await strict.request('GET', url);
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().exception, `${EXC}NotFoundException`);
    }
  } finally {
    await strict.close();
  }
});
