// POST /maintenance/services/import: export → import → export round-trips byte for byte into a new
// store; a re-run adds nothing; taken ids are remapped with the references inside the service; each
// invalid record is reported with its position and reason and leaves nothing behind, in an import of
// several batches too; the Genesys
// export shape (text ids) goes in; imported elements count in analytics (once, on a re-run too) and in
// the search index.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { IMPORT_BATCH, IMPORT_BATCH_TEXT } from '../../src/app/import.js';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';

let source: TestApp;
let target: TestApp;
before(async () => {
  source = await createTestApp();
  target = await createTestApp();
});
after(async () => {
  await source.close();
  await target.close();
});

const at = (minute: number) => new Date(Date.UTC(2025, 5, 1, 9, minute)).toISOString();
const EXPORT = '/maintenance/services/stream?time_from=2000-01-01T00:00:00Z&export_content=true';
const exported = async (t: TestApp) => {
  const res = await t.request('GET', EXPORT);
  assert.equal(res.statusCode, 200);
  return res.body;
};
const importing = async (t: TestApp, body: string, type = 'application/json') => {
  const res = await t.request('POST', '/maintenance/services/import', body, { 'content-type': type });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
};

/** Journeys with everything an export carries: states (a transition), tasks in states, extensions on each level, completion, an anonymous caller, a 64-bit value. */
async function journeys(t: TestApp): Promise<string[]> {
  const schema = { name: 'Ticket', type: 'single-valued', attributes: [{ name: 'number', type: 'long', searchable: true }] };
  assert.equal((await t.request('POST', '/metadata/services/extensions', schema)).statusCode, 201);
  const a = await startService(t, { customer_id: 'IMP-1', service_type: 'Billing', timestamp: at(0), interaction_id: 'IX-1', Ticket: { number: '9007199254740993' }, Notes: { text: 'ünïcødé ✓' } });
  const first = (await t.request('POST', `/services/${a}/states/start`, { state_type: 'Identify', timestamp: at(1), Reason: { code: 7 } })).json().state_id;
  const task = (await t.request('POST', `/services/${a}/tasks/start`, { state_id: first, task_type: 'CollectPIN', timestamp: at(2), Survey: { q: 1 } })).json().task_id;
  assert.equal((await t.request('POST', `/services/${a}/tasks/${task}/end`, { timestamp: at(3), disposition: 'ok' })).statusCode, 204);
  const second = (await t.request('POST', `/services/${a}/states/transition`, { from: { state_id: first, disposition: 'done' }, to: { state_type: 'Waiting' }, timestamp: at(4) })).json().state_id;
  assert.equal((await t.request('POST', `/services/${a}/states/${second}/end`, { timestamp: at(9) })).statusCode, 204);
  assert.equal((await t.request('POST', `/services/${a}/end`, { timestamp: at(10), disposition: 'Resolved', disposition_desc: 'paid' })).statusCode, 204);
  const b = await startService(t, { contact_key: '555-0142', service_type: 'Callback', timestamp: at(20) });
  await t.request('POST', `/services/${b}/states/start`, { state_type: 'Offering callback', timestamp: at(21) });
  return [a, b];
}

test('export → import → export is identical, a re-run adds nothing, and taken ids are remapped', async () => {
  const ids = await journeys(source);
  const original = await exported(source);

  const report = await importing(target, original);
  assert.deepEqual(report, { records: 2, imported: 2, already_imported: 0, remapped: [], invalid_count: 0, invalid: [] });
  assert.equal(await exported(target), original, 'the same bytes: ids, states, tasks, extensions, times and completion kept');

  // the ids kept are never handed out again: the sequences moved past them
  const fresh = await startService(target, { customer_id: 'AFTER', service_type: 'Billing', timestamp: at(30) });
  assert.ok(!ids.includes(fresh), `a new id (${fresh}), not an imported one`);
  const state = await target.request('POST', `/services/${fresh}/states/start`, { state_type: 'New', timestamp: at(31) });
  const task = await target.request('POST', `/services/${fresh}/tasks/start`, { task_type: 'New', timestamp: at(31) });
  assert.deepEqual([state.statusCode, task.statusCode], [201, 201], `${state.body} ${task.body}`);
  await target.request('DELETE', `/services/${fresh}`);

  // the caller's service once more at the end (it holds no number beyond 2^53, so JSON.parse keeps it whole)
  const twice = `${original.slice(0, -1)},${JSON.stringify(JSON.parse(original)[1])}]`;
  const again = await importing(target, twice);
  assert.equal(again.already_imported, 3, 'the same record twice in a file is one service, as in a re-run');
  assert.equal(again.imported, 0, 'a re-run of the same file adds nothing');
  assert.equal(await exported(target), original);

  // into the store they came from: every id is taken, so each service gets a new one, and its
  // tasks' state_id and its states' previous_state_id follow
  const back = await importing(source, original);
  assert.equal(back.imported, 2);
  assert.deepEqual(back.remapped.map((r: { from: string }) => r.from), ids);
  const copy = (await source.request('GET', `/services/${back.remapped[0].to}?active_states=true&completed_states=true&completed_tasks=true&extensions=*`)).json();
  const [identify, waiting] = copy.completed_states;
  assert.notEqual(String(identify.state_id), '', 'a state');
  assert.equal(waiting.started.previous_state_id, identify.state_id, 'the transition points at the copy of its state');
  assert.equal(copy.completed_tasks[0].state_id, identify.state_id, 'the task is in the copy of its state');
  assert.match((await source.request('GET', `/services/${back.remapped[0].to}?extensions=Ticket`)).body, /"number":9007199254740993/, '64-bit exact');
});

test('each invalid record is reported with its position and reason; the others go in (NDJSON)', async () => {
  // the target's own schemas apply to what comes in
  const schema = { name: 'Ticket', type: 'single-valued', attributes: [{ name: 'number', type: 'long', searchable: true }] };
  assert.equal((await target.request('POST', '/metadata/services/extensions', schema)).statusCode, 201);
  const valid = (n: number) => JSON.stringify({ service_id: 900 + n, customer_id: `NDJ-${n}`, service_type: 'Sales', started: { timestamp: at(30 + n) } });
  const lines = [
    valid(1),
    '{"service_id": 901, "customer_id": "broken"',
    JSON.stringify({ service_id: 'x-1', customer_id: 'NDJ-X', service_type: 'Sales', started: {} }),
    JSON.stringify({ customer_id: 'NDJ-Y', service_type: 'Sales', started: { timestamp: at(40) }, completed: { timestamp: at(39) } }),
    JSON.stringify({ customer_id: 'NDJ-Z', service_type: 'Sales', started: { timestamp: at(40) }, active_tasks: [{ task_id: 5, state_id: 77, started: { timestamp: at(41) } }] }),
    JSON.stringify({ customer_id: 'NDJ-T', service_type: 'Sales', started: { timestamp: at(40) }, Ticket: { number: 'not a number' } }),
    '',
    valid(2),
  ];
  const before = (await exported(target)).length;
  const report = await importing(target, lines.join('\n'), 'application/x-ndjson');
  assert.equal(report.records, 7, 'blank lines are not records');
  assert.equal(report.imported, 2);
  assert.equal(report.invalid_count, 5);
  assert.deepEqual(
    report.invalid.map((r: { position: number }) => r.position),
    [2, 3, 4, 5, 6],
  );
  const reasons = report.invalid.map((r: { reason: string }) => r.reason);
  assert.match(reasons[0], /not valid JSON/);
  assert.match(reasons[1], /service\.started\.timestamp is mandatory in an import/);
  assert.match(reasons[2], /earlier than started\.timestamp/);
  assert.match(reasons[3], /state_id 77 is not a state of this service/);
  assert.match(reasons[4], /Ticket\.number must be a 64-bit integer/);
  assert.equal(report.invalid[1].service_id, 'x-1');
  const customers = (await target.request('GET', '/services/search?customer_id=NDJ-Z')).json().services;
  assert.deepEqual(customers, [], 'an invalid record leaves nothing behind');
  assert.ok((await exported(target)).length > before);
  const bad = await target.request('POST', '/maintenance/services/import', '[{"a":1}', { 'content-type': 'application/json' });
  assert.equal(bad.statusCode, 400, 'an array that never closes');
  assert.match(bad.json().message, /no closing \]/);
});

test('an import of several batches: every valid record goes in, each invalid one is reported at its position', async () => {
  // IMPORT_BATCH records are checked (in the worker) while the batch before is written
  const total = 2 * IMPORT_BATCH + 1000;
  const bad = new Set([IMPORT_BATCH - 500, IMPORT_BATCH + 1, total - 1]);
  const lines = Array.from({ length: total }, (_, i) =>
    bad.has(i + 1) ? JSON.stringify({ customer_id: `MANY-${i + 1}`, service_type: 'Bulk', started: {} }) : JSON.stringify({ customer_id: `MANY-${i + 1}`, service_type: 'Bulk', started: { timestamp: at(50) } }),
  );
  const report = await importing(target, lines.join('\n'), 'application/x-ndjson');
  assert.equal(report.records, total);
  assert.equal(report.imported, total - bad.size);
  assert.deepEqual(
    report.invalid.map((r: { position: number }) => r.position),
    [...bad],
  );
  for (const n of [1, IMPORT_BATCH, IMPORT_BATCH + 2, total]) {
    assert.equal((await target.request('GET', `/services/search?customer_id=MANY-${n}`)).json().services.length, 1, `record ${n}`);
  }
  assert.deepEqual((await target.request('GET', `/services/search?customer_id=MANY-${IMPORT_BATCH + 1}`)).json().services, []);
});

test('the Genesys export shape goes in: text ids get new ones; imported history counts in analytics and search', async () => {
  const genesys = [
    {
      service_id: '17-9c1d2e3f-f001',
      service_type: 'Billing',
      customer_id: 'GEN-1',
      duration: 600000,
      disposition: 'Resolved',
      started: { timestamp: '2025-03-01T10:00:00.000Z', media_type: 'voice' },
      completed: { timestamp: '2025-03-01T10:10:00.000Z' },
      completed_states: [{ state_id: 3, state_type: 'Waiting for agent', duration: 120000, started: { timestamp: '2025-03-01T10:01:00.000Z' }, completed: { timestamp: '2025-03-01T10:03:00.000Z' } }],
      Ticket: { number: 4711 },
    },
  ];
  const report = await importing(target, JSON.stringify(genesys));
  assert.equal(report.imported, 1);
  assert.equal(report.remapped[0].from, '17-9c1d2e3f-f001');
  const id = report.remapped[0].to;
  const service = (await target.request('GET', `/services/${id}?completed_states=true`)).json();
  assert.equal(service.customer_id, 'GEN-1');
  assert.equal(service.disposition, 'Resolved');
  assert.equal(service.completed_states[0].duration, 120000);

  const states = (await target.request('GET', '/analytics/states?from=2025-03-01T00:00:00Z&to=2025-03-02T00:00:00Z&state_types=Waiting for agent')).json();
  assert.equal(states.states[0].completed, 1, 'the imported state is in time in state');
  assert.equal(states.states[0].duration_ms.max, 120000);
  const found = (await target.request('GET', '/services/search?ext.Ticket.number=4711')).json().services;
  assert.deepEqual(found.map((s: { service_id: number }) => String(s.service_id)), [id], 'its searchable values are indexed');
});

test('a re-run with new records among imported ones counts only the new ones in analytics', async () => {
  const record = (n: number) => ({
    service_id: `RERUN-${n}`,
    service_type: 'Rerun',
    customer_id: `RERUN-${n}`,
    started: { timestamp: `2025-04-01T10:0${n}:00.000Z` },
    completed: { timestamp: `2025-04-01T10:5${n}:00.000Z` },
    completed_states: [{ state_id: 1, state_type: 'Rerun wait', started: { timestamp: `2025-04-01T10:0${n}:00.000Z` }, completed: { timestamp: `2025-04-01T10:1${n}:00.000Z` } }],
  });
  const completed = async () =>
    (await target.request('GET', '/analytics/states?from=2025-04-01T00:00:00Z&to=2025-04-02T00:00:00Z&state_types=Rerun wait')).json().states[0].completed;
  assert.equal((await importing(target, JSON.stringify([record(1), record(2)]))).imported, 2);
  assert.equal(await completed(), 2);
  const rerun = await importing(target, JSON.stringify([record(1), record(2), record(3)]));
  assert.deepEqual([rerun.imported, rerun.already_imported], [1, 2]);
  assert.equal(await completed(), 3, 'the records imported before are not counted again');
});

test('large records are written in batches of bounded text, not IMPORT_BATCH at a time', async () => {
  // 60 records of ~120 KB: about 7 MB, well under IMPORT_BATCH records but over IMPORT_BATCH_TEXT
  const record = (n: number) =>
    JSON.stringify({
      service_id: `BIG-${n}`,
      service_type: 'Big',
      customer_id: `BIG-${n}`,
      started: { timestamp: '2025-05-01T10:00:00.000Z' },
      Notes: { a: 'x'.repeat(60_000), b: `${n}`.padEnd(60_000, 'y') },
    });
  const lines = Array.from({ length: 60 }, (_, i) => record(i + 1));
  const text = lines.join('\n');
  assert.ok(text.length > IMPORT_BATCH_TEXT && lines.length < IMPORT_BATCH);
  const batches = async () => Number((await target.raw("SELECT COUNT(*) AS n FROM events WHERE kind = 'maintenance.imported'"))[0].n);
  const before = await batches();
  const report = await importing(target, text, 'application/x-ndjson');
  assert.equal(report.imported, 60);
  // 35 records reach IMPORT_BATCH_TEXT; the other 25 are the second batch (each batch appends one event)
  assert.equal((await batches()) - before, 2, 'two batches');
});

test('a record nested thousands deep is an invalid record, not a server error', async () => {
  for (const depth of [4182, 100_000]) {
    const report = await importing(target, `[${'['.repeat(depth)}${']'.repeat(depth)}]`);
    assert.equal(report.invalid_count, 1, String(depth));
    assert.match(report.invalid[0].reason, /must be a JSON object, got an array|nested too deeply/);
  }
});
