import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { validate } from '@readme/openapi-parser';
import { createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

/** Fastify's `/a/:b` as OpenAPI's `/a/{b}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

test('GET /openapi.json is a valid OpenAPI 3.1 document', async () => {
  const res = await t.request('GET', '/openapi.json');
  assert.equal(res.statusCode, 200);
  const doc = res.json();
  assert.equal(doc.openapi, '3.1.0');
  const result = await validate(structuredClone(doc));
  assert.equal(result.valid, true, JSON.stringify(result.valid ? [] : result.errors.slice(0, 3)));
});

test('every registered API route is in the document, with its responses and error shape', async () => {
  const doc = (await t.request('GET', '/openapi.json')).json();
  const routes = t.app.routeTable.filter((r) => r.documented && r.url !== '/openapi.json');
  assert.ok(routes.length > 50, `found ${routes.length} routes`);
  for (const route of routes) {
    const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
    assert.ok(operation, `${route.method} ${route.url} is documented`);
    assert.ok(operation.summary, `${route.method} ${route.url} has a summary`);
    assert.ok(Object.keys(operation.responses).some((code) => code.startsWith('2')), `${route.method} ${route.url} documents success`);
    if (route.url.startsWith('/genesys')) {
      const error = operation.responses['4XX'] ?? operation.responses['4xx'];
      assert.ok(error, `${route.method} ${route.url} documents its errors`);
      const schema = error.content['application/json'].schema;
      assert.deepEqual(Object.keys(schema.properties).sort(), ['exception', 'message']);
    }
  }
  assert.ok(doc.paths['/genesys/1/cs/services/start'].post.requestBody, 'bodies are documented');
});

test('/docs serves the interactive docs from this server (no CDN)', async () => {
  const page = await t.request('GET', '/docs');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /swagger-ui/);
  assert.doesNotMatch(page.body, /https?:\/\/(?!127\.0\.0\.1|localhost)[^"']*\.(js|css)/, 'no external assets');
  const initializer = await t.request('GET', '/docs/static/swagger-initializer.js');
  assert.equal(initializer.statusCode, 200);
  assert.equal((await t.request('GET', '/docs/json')).statusCode, 200);
});

test('/console serves the journey console with security headers', async () => {
  const redirect = await t.request('GET', '/console');
  assert.equal(redirect.statusCode, 302);
  assert.equal(redirect.headers.location, '/console/');
  const page = await t.request('GET', '/console/');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /journey console/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  const script = await t.request('GET', '/console/app.js');
  assert.equal(script.statusCode, 200);
  assert.match(String(script.headers['content-type']), /javascript/);
});
