// /docs "Try it out" works as shown: every operation of the OpenAPI document carries an example
// request, and the document's examples, replayed in the journey's order against a live server on a
// fresh store, are each answered 2xx. The document declares HTTP Basic and the tenant headers.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EXAMPLE_REQUESTS, WEBHOOK_ID_EXAMPLE } from '../../src/http/openapi-examples.js';
import { tempDir } from '../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';

interface Parameter {
  name: string;
  in: string;
  example?: string;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  security?: unknown[];
}
type Document = { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { type: string; scheme: string; description?: string }> } };

const dir = tempDir('contextd-examples-');
let server: ServerProcess;
let doc: Document;
before(async () => {
  server = await startServerProcess([], { DATABASE_URL: join(dir, 'fresh.db') });
  doc = (await (await fetch(`${server.base}/openapi.json`)).json()) as Document;
});
after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
});

test('every operation of the document has one example request, with an example for each path parameter and body', () => {
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
  const examples = EXAMPLE_REQUESTS.map((e) => `${e.method} ${e.path}`);
  assert.deepEqual([...examples].sort(), [...operations].sort(), 'one example per operation, no more');
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(ops)) {
      for (const parameter of operation.parameters?.filter((p) => p.in === 'path') ?? []) assert.ok(parameter.example, `${method} ${path}: {${parameter.name}} has an example`);
      const json = operation.requestBody?.content['application/json'];
      if (json) assert.ok(json.example !== undefined, `${method} ${path}: the body has an example`);
    }
  }
});

test('the document declares HTTP Basic and the ContactCenterId / GroupId headers on the API', () => {
  assert.deepEqual(doc.components.securitySchemes.basic, { type: 'http', scheme: 'basic', description: doc.components.securitySchemes.basic.description });
  const start = doc.paths['/genesys/1/cs/services/start'].post;
  assert.deepEqual(start.security, [{ basic: [] }, {}]);
  assert.deepEqual(
    start.parameters?.filter((p) => p.in === 'header').map((p) => p.name),
    ['ContactCenterId', 'GroupId'],
  );
  assert.equal(doc.paths['/health'].get.security, undefined, 'not on /health');
});

test("the document's examples, replayed in order on a fresh server, are each answered 2xx", { timeout: 60_000 }, async () => {
  let webhookId: string | undefined;
  for (const example of EXAMPLE_REQUESTS) {
    const operation = doc.paths[example.path][example.method.toLowerCase()];
    const parameters = operation.parameters ?? [];
    let path = example.path;
    for (const p of parameters.filter((p) => p.in === 'path')) path = path.replace(`{${p.name}}`, encodeURIComponent(p.example === WEBHOOK_ID_EXAMPLE ? webhookId! : p.example!));
    const query = new URLSearchParams(parameters.filter((p) => p.in === 'query' && p.example !== undefined).map((p) => [p.name, p.example!]));
    const body = operation.requestBody?.content['application/json']?.example;
    const url = `${server.base}${path}${query.size > 0 ? `?${query}` : ''}`;
    const label = `${example.method} ${url}`;
    const abort = new AbortController();
    const res = await fetch(url, {
      method: example.method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort.signal,
    });
    // the event stream does not end: its answer has begun
    if (/^text\/event-stream/.test(res.headers.get('content-type') ?? '')) {
      assert.equal(res.status, 200, label);
      abort.abort();
      continue;
    }
    const text = await res.text();
    assert.ok(res.status >= 200 && res.status < 300, `${label} answered ${res.status}: ${text}`);
    if (example.method === 'POST' && example.path.endsWith('/webhooks')) webhookId = (JSON.parse(text) as { id: string }).id;
  }
});
