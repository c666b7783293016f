// The documented lists walked with a cursor: bodies stay bare arrays, a page with more after it says
// where they are in `Link: <…>; rel="next"`, and a cursor belongs to the list and filters it came from.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString();
const BASE = '/genesys/1/cs';

/** The next page's path from a Link header, relative to the API's base like t.request takes it. */
function nextOf(link: unknown): string | undefined {
  if (link === undefined) return undefined;
  const match = /^<([^>]+)>; rel="next"$/.exec(String(link));
  assert.ok(match, `a next link: ${String(link)}`);
  assert.ok(match[1].startsWith(BASE));
  return match[1].slice(BASE.length);
}

/** Every page of a list from `path` on: the pages' sizes and the ids in order. */
async function walk(path: string, idField: string): Promise<{ sizes: number[]; ids: string[] }> {
  const sizes: number[] = [];
  const ids: string[] = [];
  for (let next: string | undefined = path; next !== undefined; ) {
    const res = await t.request('GET', next);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as Record<string, unknown>[];
    assert.ok(Array.isArray(body), 'a bare array, as the list always answered');
    sizes.push(body.length);
    ids.push(...body.map((row) => String(row[idField])));
    next = nextOf(res.headers.link);
    assert.ok(sizes.length < 20, 'the pages end');
  }
  return { sizes, ids };
}

test("a customer's and a contact key's services, a page at a time through the Link header", async () => {
  const started: string[] = [];
  for (let i = 0; i < 7; i++) started.push(await startService(t, { customer_id: 'PAGED', service_type: i % 2 ? 'Odd' : 'Even', timestamp: at(i) }));
  assert.deepEqual(await walk('/customers/PAGED/services?limit=3', 'service_id'), { sizes: [3, 3, 1], ids: started }, 'oldest first, as the list is');
  assert.deepEqual(await walk('/customers/PAGED/services?limit=7', 'service_id'), { sizes: [7], ids: started }, 'a full last page has no next link');
  assert.deepEqual((await walk('/customers/PAGED/services/active?service_types=Even&limit=2', 'service_id')).ids, started.filter((_, i) => i % 2 === 0), 'filters kept');
  const whole = await t.request('GET', '/customers/PAGED/services');
  assert.equal(whole.headers.link, undefined, 'without a limit, the whole list and no link');
  assert.equal(whole.json().length, 7);
  const fromOffset = await walk('/customers/PAGED/services?limit=2&offset=3', 'service_id');
  assert.deepEqual(fromOffset.ids, started.slice(3), 'a limit with an offset links on from there (the link drops the offset)');

  const anonymous: string[] = [];
  for (let i = 0; i < 3; i++) anonymous.push(await startService(t, { contact_key: '555-0777', service_type: 'Call', timestamp: at(i) }));
  assert.deepEqual(await walk('/services/anonymous/555-0777?limit=2', 'service_id'), { sizes: [2, 1], ids: anonymous });
});

test("a service's states and tasks, a page at a time", async () => {
  const id = await startService(t, { customer_id: 'PAGED-ELEMENTS', service_type: 'Long', timestamp: at(0) });
  const states: string[] = [];
  const tasks: string[] = [];
  for (let i = 0; i < 5; i++) {
    states.push(String((await t.request('POST', `/services/${id}/states/start`, { state_type: 'Step', timestamp: at(i + 1) })).json().state_id));
    tasks.push(String((await t.request('POST', `/services/${id}/tasks/start`, { task_type: 'Work', timestamp: at(i + 1) })).json().task_id));
  }
  assert.deepEqual(await walk(`/services/${id}/states?limit=2`, 'state_id'), { sizes: [2, 2, 1], ids: states });
  assert.deepEqual(await walk(`/services/${id}/tasks/active?limit=4`, 'task_id'), { sizes: [4, 1], ids: tasks });
});

test('a cursor is refused on another list, with other filters, with an offset, or forged', async () => {
  for (let i = 0; i < 3; i++) await startService(t, { customer_id: 'PAGED-A', service_type: 'T', timestamp: at(i) });
  const first = await t.request('GET', '/customers/PAGED-A/services?limit=1');
  const next = nextOf(first.headers.link)!;
  const cursor = new URL(next, 'http://host').searchParams.get('cursor')!;
  assert.equal((await t.request('GET', next)).statusCode, 200);
  for (const path of [
    `/customers/PAGED-B/services?limit=1&cursor=${encodeURIComponent(cursor)}`,
    `/customers/PAGED-A/services/active?limit=1&cursor=${encodeURIComponent(cursor)}`,
    `/customers/PAGED-A/services?limit=1&service_types=T&cursor=${encodeURIComponent(cursor)}`,
    `/customers/PAGED-A/services?limit=1&cursor=${encodeURIComponent(cursor.replace(/^./, (c) => (c === 'e' ? 'f' : 'e')))}`,
  ]) {
    const res = await t.request('GET', path);
    assert.equal(res.statusCode, 400, path);
    assert.equal(res.json().exception, `${EXC}ValidationException`);
    assert.match(res.json().message, /cursor/);
  }
  const withOffset = await t.request('GET', `/customers/PAGED-A/services?limit=1&offset=1&cursor=${encodeURIComponent(cursor)}`);
  assert.equal(withOffset.statusCode, 400);
  assert.match(withOffset.json().message, /offset: not with a cursor/);
  const more = await t.request('GET', `/customers/PAGED-A/services?limit=5&cursor=${encodeURIComponent(cursor)}`);
  assert.equal(more.json().length, 2, 'another page size with the same cursor is fine');
});
