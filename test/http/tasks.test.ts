import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

async function startTask(serviceId: string, body?: Record<string, unknown>): Promise<number> {
  const res = await t.request('POST', `/services/${serviceId}/tasks/start`, body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json().task_id;
}

test('start: 201 with task_id and Location; task_type optional; no body at all is fine', async () => {
  const s = await startService(t, { customer_id: 'T1', service_type: 'A' });
  const res = await t.request('POST', `/services/${s}/tasks/start`, { task_type: 'CollectInfo', est_duration: 60, Survey: { question1: 7, question2: true } });
  assert.equal(res.statusCode, 201);
  const id = res.json().task_id;
  assert.equal(res.headers.location, `/genesys/1/cs/services/${s}/tasks/${id}`);
  const bare = await startTask(s);
  assert.ok(bare > id);
  const got = (await t.request('GET', `/services/${s}/tasks/${id}?extensions=Survey`)).json();
  assert.equal(got.service_id, Number(s));
  assert.equal(got.task_type, 'CollectInfo');
  assert.equal(got.est_duration, 60);
  assert.deepEqual(got.Survey, { question1: 7, question2: true });
  assert.equal(got.state_id, undefined);
  const plain = (await t.request('GET', `/services/${s}/tasks/${bare}`)).json();
  assert.equal(plain.task_type, undefined);
});

test('start errors: unknown service 404; state_id of another service 400 and nothing written', async () => {
  assert.equal((await t.request('POST', '/services/5050505/tasks/start', {})).statusCode, 404);
  const s = await startService(t, { customer_id: 'T2', service_type: 'A' });
  const other = await startService(t, { customer_id: 'T3', service_type: 'A' });
  const foreign = (await t.request('POST', `/services/${other}/states/start`, { state_type: 1 })).json().state_id;
  const bad = await t.request('POST', `/services/${s}/tasks/start`, { state_id: foreign, task_type: 'X' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /state_id/);
  assert.deepEqual((await t.request('GET', `/services/${s}/tasks`)).json(), []);
  assert.equal((await t.request('POST', `/services/${s}/tasks/start`, { state_id: 'x' })).statusCode, 400);
});

test('end: 204 with disposition and duration; second end 409; unknown task 404', async () => {
  const s = await startService(t, { customer_id: 'T4', service_type: 'A' });
  const id = await startTask(s, { task_type: 'T', timestamp: '2024-01-01T00:00:00Z' });
  const end = await t.request('POST', `/services/${s}/tasks/${id}/end`, { disposition: 'Done', timestamp: '2024-01-01T00:01:00Z', Result: { ok: true } });
  assert.equal(end.statusCode, 204);
  const got = (await t.request('GET', `/services/${s}/tasks/${id}?extensions=result`)).json();
  assert.equal(got.disposition, 'Done');
  assert.equal(got.duration, 60000);
  assert.deepEqual(got.Result, { ok: true });
  const again = await t.request('POST', `/services/${s}/tasks/${id}/end`);
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().exception, `${EXC}ConflictException`);
  const missing = await t.request('POST', `/services/${s}/tasks/777777/end`, {});
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().message, 'There are no task found for : 777777');
  assert.equal((await t.request('GET', `/services/${s}/tasks/777777`)).statusCode, 404);
  assert.equal((await t.request('GET', `/services/9191919/tasks/${id}`)).json().message, 'There are no service found for : 9191919');
});

test('tasks may be started and ended on a completed service', async () => {
  const s = await startService(t, { customer_id: 'T5', service_type: 'A' });
  await t.request('POST', `/services/${s}/end`);
  const id = await startTask(s, { task_type: 'late' });
  assert.equal((await t.request('POST', `/services/${s}/tasks/${id}/end`)).statusCode, 204);
});

test('lists: oldest first, state_id and task_types filters combine with AND, active/completed, limit/offset', async () => {
  const s = await startService(t, { customer_id: 'T6', service_type: 'A' });
  const st = (await t.request('POST', `/services/${s}/states/start`, { state_type: 1 })).json().state_id;
  const a = await startTask(s, { state_id: st, task_type: 'A', timestamp: '2024-01-01T00:00:04Z' });
  const b = await startTask(s, { state_id: st, task_type: 'B', timestamp: '2024-01-01T00:00:01Z' });
  const c = await startTask(s, { task_type: 'A', timestamp: '2024-01-01T00:00:02Z' });
  const d = await startTask(s, { state_id: st, task_type: 3, timestamp: '2024-01-01T00:00:03Z' });
  await t.request('POST', `/services/${s}/tasks/${d}/end`, {});
  const ids = async (q: string) => ((await t.request('GET', `/services/${s}/tasks${q}`)).json() as { task_id: number }[]).map((x) => x.task_id);
  assert.deepEqual(await ids(''), [b, c, d, a]);
  assert.deepEqual(await ids('/active'), [b, c, a]);
  assert.deepEqual(await ids('/completed'), [d]);
  assert.deepEqual(await ids(`?state_id=${st}`), [b, d, a]);
  assert.deepEqual(await ids(`/completed?task_types=1,3&state_id=${st}`), [d]);
  assert.deepEqual(await ids('?task_types=A'), [c, a]);
  assert.deepEqual(await ids('?task_types=A&task_types=B'), [b, c, a]);
  assert.deepEqual(await ids('?limit=2&offset=2'), [d, a]);
  const [first] = (await t.request('GET', `/services/${s}/tasks`)).json();
  assert.equal(first.service_id, Number(s));
  assert.equal((await t.request('GET', `/services/${s}/tasks?state_id=abc`)).statusCode, 400);
  assert.equal((await t.request('GET', '/services/2020202/tasks')).statusCode, 404);
});

test('PUT task extension: 200, replaces; unknown task 404', async () => {
  const s = await startService(t, { customer_id: 'T7', service_type: 'A' });
  const id = await startTask(s);
  const proposal = [{ model: 'cabriolet', seats: 2 }, { model: 'SUV', seats: 8 }];
  assert.equal((await t.request('PUT', `/services/${s}/tasks/${id}/extensions/Proposal`, proposal)).statusCode, 200);
  assert.deepEqual((await t.request('GET', `/services/${s}/tasks/${id}?extensions=Proposal`)).json().Proposal, proposal);
  assert.equal((await t.request('PUT', `/services/${s}/tasks/${id}/extensions/Proposal`, { one: 1 })).statusCode, 200);
  assert.deepEqual((await t.request('GET', `/services/${s}/tasks?extensions=*`)).json()[0].Proposal, { one: 1 });
  assert.equal((await t.request('PUT', `/services/${s}/tasks/3131313/extensions/Proposal`, proposal)).statusCode, 404);
});
