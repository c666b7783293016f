import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

const OLD = '2020-01-01T00:00:00Z';
const RECENT = '2024-06-01T00:00:00Z';

/** Four services of each shape, started before the cut-off, and one of each after it. */
async function seed(tag: string): Promise<Record<string, string[]>> {
  const made: Record<string, string[]> = { identifiedActive: [], identifiedDone: [], anonymousActive: [], anonymousDone: [], recent: [] };
  for (let i = 0; i < 2; i++) {
    made.identifiedActive.push(await startService(t, { customer_id: `${tag}-C`, service_type: 'A', timestamp: OLD }));
    const done = await startService(t, { customer_id: `${tag}-C`, service_type: 'A', timestamp: OLD });
    await t.request('POST', `/services/${done}/end`, {});
    made.identifiedDone.push(done);
    made.anonymousActive.push(await startService(t, { contact_key: `${tag}-K`, service_type: 'A', timestamp: OLD }));
    const anonDone = await startService(t, { contact_key: `${tag}-K`, service_type: 'A', timestamp: OLD });
    await t.request('POST', `/services/${anonDone}/end`, {});
    made.anonymousDone.push(anonDone);
  }
  made.recent.push(await startService(t, { customer_id: `${tag}-C`, service_type: 'A', timestamp: RECENT }));
  return made;
}

async function exists(id: string): Promise<boolean> {
  return (await t.request('GET', `/services/${id}`)).statusCode === 200;
}

describe('POST /maintenance/purge', () => {
  const cases: [string, string[]][] = [
    ['purge.service.completed.anonymous', ['anonymousDone']],
    ['purge.service.started.anonymous', ['anonymousActive']],
    ['purge.service.completed', ['anonymousDone', 'identifiedDone']],
    ['purge.service.started', ['anonymousActive', 'identifiedActive']],
    ['purge.service.all', ['anonymousActive', 'anonymousDone', 'identifiedActive', 'identifiedDone']],
  ];
  for (const [operation, gone] of cases) {
    test(`${operation} removes exactly its services started before limit, with their states`, async () => {
      await t.request('POST', '/maintenance/purge', { limit: '2100-01-01T00:00:00Z', operation: 'purge.service.all' }); // a clean slate
      const made = await seed(operation);
      const state = (await t.request('POST', `/services/${made.anonymousDone[0]}/states/start`, { state_type: 1 })).json().state_id;
      const res = await t.request('POST', '/maintenance/purge', { limit: '2021-01-01T00:00:00.000Z', operation });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { purged: gone.length * 2 });
      for (const [shape, ids] of Object.entries(made)) {
        for (const id of ids) assert.equal(await exists(id), !gone.includes(shape), `${shape} ${id}`);
      }
      if (gone.includes('anonymousDone')) assert.equal((await t.request('GET', `/services/${made.anonymousDone[0]}/states/${state}`)).statusCode, 404);
    });
  }

  test('bad requests: 400', async () => {
    for (const body of [{}, { limit: 'yesterday', operation: 'purge.service.all' }, { limit: OLD, operation: 'purge.everything' }, { operation: 'purge.service.all' }]) {
      assert.equal((await t.request('POST', '/maintenance/purge', body)).statusCode, 400, JSON.stringify(body));
    }
  });

  test('bounded batches: more services than one batch are all purged', async () => {
    await t.request('POST', '/maintenance/purge', { limit: '2100-01-01T00:00:00Z', operation: 'purge.service.all' });
    const ids = await Promise.all(Array.from({ length: 25 }, () => startService(t, { customer_id: 'BATCH', service_type: 'A', timestamp: OLD })));
    assert.equal(await t.store.purgeServices('purge.service.all', Date.parse('2021-01-01T00:00:00Z'), 7), 25);
    for (const id of ids) assert.equal(await exists(id), false);
  });
});

describe('GET /maintenance/services/stream', () => {
  test('ids by default; filter_events on started or completed; the time range is [time_from, time_to)', async () => {
    await t.request('POST', '/maintenance/purge', { limit: '2100-01-01T00:00:00Z', operation: 'purge.service.all' });
    const a = await startService(t, { customer_id: 'EXP', service_type: 'A', timestamp: '2024-03-01T10:00:00Z' });
    const b = await startService(t, { customer_id: 'EXP', service_type: 'B', timestamp: '2024-02-01T10:00:00Z' });
    await t.request('POST', `/services/${b}/end`, { timestamp: '2024-03-01T12:00:00Z' });
    const c = await startService(t, { customer_id: 'EXP', service_type: 'C', timestamp: '2024-04-01T10:00:00Z' });
    const ids = async (query: string) => {
      const res = await t.request('GET', `/maintenance/services/stream?${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().map(String);
    };
    const march = 'time_from=2024-03-01T00:00:00Z&time_to=2024-04-01T10:00:00Z';
    assert.deepEqual(await ids(march), [a, b]);
    assert.deepEqual(await ids(`${march}&filter_events=started`), [a]);
    assert.deepEqual(await ids(`${march}&filter_events=completed`), [b]);
    assert.deepEqual(await ids('time_from=2024-01-01T00:00:00Z'), [a, b, c]);
    assert.deepEqual(await ids('time_from=2024-04-01T10:00:00Z&time_to=2024-04-01T10:00:00.001Z'), [c]);
  });

  test('export_content=true gives whole services with states, tasks and extensions; filter_state', async () => {
    await t.request('POST', '/maintenance/purge', { limit: '2100-01-01T00:00:00Z', operation: 'purge.service.all' });
    const a = await startService(t, { customer_id: 'EXC', service_type: 'A', timestamp: '2024-03-01T10:00:00Z', Cart: { n: 1 } });
    await t.request('POST', `/services/${a}/states/start`, { state_type: 4, Note: { x: 1 } });
    await t.request('POST', `/services/${a}/tasks/start`, { task_type: 'T' });
    const b = await startService(t, { customer_id: 'EXC', service_type: 'B', timestamp: '2024-03-01T11:00:00Z' });
    await t.request('POST', `/services/${b}/end`, {});
    const all = (await t.request('GET', '/maintenance/services/stream?time_from=2024-01-01T00:00:00Z&export_content=true')).json();
    assert.equal(all.length, 2);
    assert.deepEqual(all[0].Cart, { n: 1 });
    assert.deepEqual(all[0].active_states[0].Note, { x: 1 });
    assert.equal(all[0].active_tasks.length, 1);
    const active = (await t.request('GET', '/maintenance/services/stream?time_from=2024-01-01T00:00:00Z&export_content=true&filter_state=active')).json();
    assert.deepEqual(active.map((s: { service_id: number }) => String(s.service_id)), [a]);
    const inactive = (await t.request('GET', '/maintenance/services/stream?time_from=2024-01-01T00:00:00Z&export_content=true&filter_state=inactive')).json();
    assert.deepEqual(inactive.map((s: { service_id: number }) => String(s.service_id)), [b]);
  });

  test('more services than one page stream as one valid array', async () => {
    await t.request('POST', '/maintenance/purge', { limit: '2100-01-01T00:00:00Z', operation: 'purge.service.all' });
    await Promise.all(Array.from({ length: 1203 }, () => startService(t, { customer_id: 'PAGES', service_type: 'A', timestamp: '2024-05-01T00:00:00Z' })));
    const ids = (await t.request('GET', '/maintenance/services/stream?time_from=2024-01-01T00:00:00Z')).json();
    assert.equal(ids.length, 1203);
    assert.equal(new Set(ids).size, 1203);
  });

  test('bad queries: 400', async () => {
    for (const query of ['', 'time_from=x', 'time_from=2024-01-01T00:00:00Z&filter_events=sometimes', 'time_from=2024-01-01T00:00:00Z&filter_state=active', 'time_from=2024-01-01T00:00:00Z&export_content=yes']) {
      assert.equal((await t.request('GET', `/maintenance/services/stream?${query}`)).statusCode, 400, query);
    }
  });
});
