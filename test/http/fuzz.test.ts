// Property-based fuzzing of every API route (fast-check): wrong types, huge and 64-bit-overflow
// numbers, deep nesting, long strings, invalid UTF-8, duplicate keys and prototype-pollution keys in
// the body, path and query. Whatever comes in: never a 5xx, a hang or a crash; every 4xx is the JSON
// error shape without stack traces or SQL; and a 4xx leaves the store exactly as it was.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 15);
const TABLES = ['services', 'states', 'tasks', 'extensions', 'profiles', 'profile_extensions', 'profile_identities', 'extension_schemas', 'identification_keys', 'audit_log', 'idempotency_keys'];
const LEAKS = /\n\s+at |node_modules|\bSELECT\b|\bINSERT\b|\bUPDATE\b|\bDELETE FROM\b|SQLITE_|syntax error at|\.ts:\d+/;

let t: TestApp;
const known: Record<string, string> = {};
before(async () => {
  t = await createTestApp({ limits: { bodyBytes: 64 * 1024, jsonDepth: 16, stringLength: 4096, extensionsPerElement: 20, listLimit: 500 } });
  await t.request('POST', '/metadata/profiles/extensions', { name: 'Phone', type: 'multi-valued', unique: ['PhoneNumber'], attributes: [{ name: 'PhoneNumber', type: 'string' }] });
  await t.request('POST', '/metadata/identification-keys', { name: 'idPhone', source: 'Phone', attributes: ['PhoneNumber'] });
  await t.request('POST', '/metadata/services/extensions', { name: 'Cart', type: 'single-valued', attributes: [{ name: 'items', type: 'integer' }] });
  known.customer_id = (await t.request('POST', '/profiles', { LastName: 'Fuzz', Phone: [{ PhoneNumber: '555' }] })).json().customer_id;
  known.service_id = await startService(t, { customer_id: known.customer_id, contact_key: 'K', service_type: 'A', Cart: { items: 1 } });
  known.state_id = String((await t.request('POST', `/services/${known.service_id}/states/start`, { state_type: 1 })).json().state_id);
  known.task_id = String((await t.request('POST', `/services/${known.service_id}/tasks/start`, { task_type: 'T' })).json().task_id);
  known.contact_key = 'K';
  known.name = 'Cart';
});
after(async () => t.close());

/** A digest of every table's rows: equal digests, equal store. */
async function snapshot(): Promise<string> {
  const hash = createHash('sha256');
  for (const table of TABLES) {
    const rows = await t.raw(`SELECT * FROM ${table}`).catch(() => [] as Record<string, unknown>[]);
    hash.update(table + rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).sort().join('\n'));
  }
  return hash.digest('hex');
}

const encode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, '?'));
  }
};

const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '-1', '0', '1.5', '1e400', 'NaN', 'true', 'null', '__proto__', 'constructor', 'prototype', '%00', '../..', '9223372036854775807', '9223372036854775808', '18446744073709551616', '-9223372036854775809', 'x'.repeat(5000)),
  fc.bigInt().map(String),
);
const paramValue = (name: string) => fc.oneof({ weight: 1, arbitrary: fc.constant(known[name] ?? 'x') }, { weight: 3, arbitrary: hostileText });

const FIELDS = ['customer_id', 'contact_key', 'service_type', 'state_type', 'task_type', 'timestamp', 'ttl', 'expiration_time', 'state_id', 'from', 'to', 'limit', 'operation', 'name', 'type', 'attributes', 'unique', 'media_type', 'resource_type', 'Cart', 'Phone', 'LastName', 'auto_complete_after', 'disposition'];
const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileText), { maxKeys: 6 }).map((v) => JSON.stringify(v)),
  fc.integer({ min: 10, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 10, max: 200 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc.integer({ min: 4097, max: 60_000 }).map((n) => JSON.stringify({ customer_id: 'x'.repeat(n), service_type: 'A' })),
  fc.integer({ min: 21, max: 60 }).map((n) => JSON.stringify({ customer_id: 'C', service_type: 'A', ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`E${i}`, { v: i }])) })),
  fc.constantFrom(
    '{"customer_id":"a","customer_id":"b","service_type":"A"}',
    '{"__proto__":{"polluted":true},"customer_id":"P","service_type":"A"}',
    '{"constructor":{"prototype":{"polluted":true}},"service_type":"A","contact_key":"P"}',
    '{"service_type":1e400,"customer_id":123456789012345678901234567890}',
    '{"service_type":"A","customer_id":"C","state_id":99999999999999999999999}',
    '{"from":{"state_id":-9223372036854775809},"to":{"state_type":1}}',
    '{"ttl":1e308,"expiration_time":"9999-99-99"}',
    '{"limit":"not a date","operation":{"$gt":""}}',
    '{"name":"__proto__","type":"single-valued"}',
    '{',
    '"just a string"',
    '[]',
    'null',
    '\u0000',
  ),
);
const rawBody = fc.oneof(
  { weight: 8, arbitrary: jsonBody.map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"customer_id":"'), Buffer.from([0xff, 0xfe, ...bytes]), Buffer.from('","service_type":"A"}')])) },
);
const query = fc.dictionary(
  fc.oneof(fc.constantFrom('limit', 'offset', 'extensions', 'active_states', 'completed_tasks', 'service_types', 'started_from', 'time_from', 'time_to', 'export_content', 'filter_state', 'cv-attribute', 'id_key', 'LastName', 'Phone.PhoneNumber', '__proto__'), fc.string({ maxLength: 8 })),
  hostileText,
  { maxKeys: 4 },
);

interface Route {
  method: string;
  url: string;
}

function routes(): Route[] {
  return t.app.routeTable.filter(
    // the event stream answers a valid request by streaming forever; its query is fuzzed by the events suite's own checks
    (r) => r.url.startsWith('/genesys/1/cs/') && r.url !== '/genesys/1/cs/events',
  );
}

test('the route table is fuzzed whole (every API route but the event stream)', () => {
  assert.ok(routes().length >= 40, `only ${routes().length} routes`);
});

test('fuzzed requests never get a 5xx, never hang, answer 4xx as JSON without internals, and a 4xx writes nothing', async () => {
  for (const route of routes()) {
    const names = [...route.url.matchAll(/:([a-z_]+)/g)].map((m) => m[1]);
    const params = fc.tuple(...names.map((n) => paramValue(n)));
    await fc.assert(
      fc.asyncProperty(params, query, rawBody, async (values, q, body) => {
        let url = route.url;
        names.forEach((n, i) => (url = url.replace(`:${n}`, encode(values[i]) || '%20')));
        const search = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, v.replace(/[\uD800-\uDFFF]/g, '?')])).toString();
        const before = await snapshot();
        const withBody = route.method === 'POST' || route.method === 'PUT';
        const response = await Promise.race([
          t.app.inject({
            method: route.method as 'GET',
            url: search ? `${url}?${search}` : url,
            ...(withBody ? { payload: body, headers: { 'content-type': 'application/json' } } : {}),
          }),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hung: ${route.method} ${url}`)), 5000)),
        ]);
        const where = `${route.method} ${url.slice(0, 200)}?${search.slice(0, 200)} ${body.toString('utf8').slice(0, 200)} → ${response.statusCode} ${response.body.slice(0, 300)}`;
        assert.ok(response.statusCode < 500, where);
        assert.equal(({} as Record<string, unknown>).polluted, undefined, `prototype polluted by ${where}`);
        if (response.statusCode >= 400) {
          const error = response.json();
          assert.equal(typeof error.message, 'string', where);
          assert.match(error.exception, /^com\.genesyslab\.|^java\./, where);
          assert.doesNotMatch(response.body, LEAKS, where);
          assert.equal(await snapshot(), before, `a ${response.statusCode} wrote: ${where}`);
        }
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
  }
});

test('each limit answers with a 4xx that names it', async () => {
  const deep = await t.request('POST', '/services/start', `${'{"a":'.repeat(17)}1${'}'.repeat(17)}`);
  assert.equal(deep.statusCode, 400);
  assert.match(deep.json().message, /nested deeper than 16 levels/);
  const long = await t.request('POST', '/services/start', { customer_id: 'C', service_type: 'A', Note: { text: 'x'.repeat(4097) } });
  assert.equal(long.statusCode, 400);
  assert.match(long.json().message, /longer than 4096 characters/);
  const many = await t.request('POST', '/services/start', { customer_id: 'C', service_type: 'A', ...Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`E${i}`, { v: i }])) });
  assert.equal(many.statusCode, 400);
  assert.match(many.json().message, /at most 20 on one element \(limits\.extensions_per_element\)/);
  const list = await t.request('GET', '/customers/C/services?limit=501');
  assert.equal(list.statusCode, 400);
  assert.match(list.json().message, /limits\.list_limit/);
  assert.equal((await t.request('GET', '/customers/C/services?limit=500')).statusCode, 200);
  const big = await t.request('POST', '/services/start', JSON.stringify({ customer_id: 'C', service_type: 'A', Blob: { parts: Array.from({ length: 40 }, () => 'y'.repeat(2000)) } }));
  assert.equal(big.statusCode, 413);
});

test('the NUL character is refused in paths, queries and bodies alike (found by the fuzzer on PostgreSQL)', async () => {
  for (const [method, url, body] of [
    ['DELETE', '/genesys/1/cs/metadata/services/extensions/%00', undefined],
    ['GET', '/genesys/1/cs/customers/C/services?service_types=%00', undefined],
    ['POST', '/genesys/1/cs/services/start', '{"customer_id":"C\\u0000","service_type":"A"}'],
  ] as const) {
    const res = await t.app.inject({ method, url, ...(body ? { payload: body, headers: { 'content-type': 'application/json' } } : {}) });
    assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body}`);
    assert.match(res.json().message, /NUL/);
  }
});
