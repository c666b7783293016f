import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

async function startState(serviceId: string, body: Record<string, unknown>): Promise<number> {
  const res = await t.request('POST', `/services/${serviceId}/states/start`, body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json().state_id;
}

describe('states', () => {
  test('start: 201 with state_id and Location; ids increase across the store', async () => {
    const s1 = await startService(t, { contact_key: 'K1', service_type: 'A' });
    const s2 = await startService(t, { contact_key: 'K2', service_type: 'A' });
    const res = await t.request('POST', `/services/${s1}/states/start`, { state_type: 4, interaction_id: 'IX', est_duration: '30' });
    assert.equal(res.statusCode, 201);
    const a = res.json().state_id;
    assert.equal(res.headers.location, `/genesys/1/cs/services/${s1}/states/${a}`);
    const b = await startState(s2, { state_type: 4 });
    const c = await startState(s1, { state_type: 4 });
    assert.ok(b > a && c > b, 'one counter across services');
    const got = (await t.request('GET', `/services/${s1}/states/${a}`)).json();
    assert.equal(got.service_id, Number(s1));
    assert.equal(got.state_type, 4);
    assert.equal(got.est_duration, 30);
    assert.equal(got.started.interaction_id, 'IX');
  });

  test('start errors: unknown service 404; no state_type 400; previous_state_id of another service 400', async () => {
    const res = await t.request('POST', '/services/424242/states/start', { state_type: 1 });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().message, 'There are no service found for : 424242');
    const s = await startService(t, { contact_key: 'K3', service_type: 'A' });
    assert.equal((await t.request('POST', `/services/${s}/states/start`, {})).statusCode, 400);
    const other = await startService(t, { contact_key: 'K4', service_type: 'A' });
    const foreign = await startState(other, { state_type: 1 });
    const bad = await t.request('POST', `/services/${s}/states/start`, { state_type: 2, previous_state_id: foreign });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /previous_state_id/);
    assert.deepEqual((await t.request('GET', `/services/${s}/states`)).json(), []);
    const ok = await startState(s, { state_type: 2 });
    const next = await startState(s, { state_type: 3, previous_state_id: String(ok) });
    assert.equal((await t.request('GET', `/services/${s}/states/${next}`)).json().started.previous_state_id, ok);
  });

  test('end: 204; second end 409 unchanged; unknown state 404 with the state message', async () => {
    const s = await startService(t, { contact_key: 'K5', service_type: 'A' });
    const st = await startState(s, { state_type: 1, timestamp: '2024-01-01T00:00:00Z' });
    const end = await t.request('POST', `/services/${s}/states/${st}/end`, { disposition: 'Identified', disposition_desc: 'by PIN', timestamp: '2024-01-01T00:00:02Z' });
    assert.equal(end.statusCode, 204);
    const got = (await t.request('GET', `/services/${s}/states/${st}`)).json();
    assert.equal(got.disposition, 'Identified');
    assert.equal(got.duration, 2000);
    const again = await t.request('POST', `/services/${s}/states/${st}/end`, { disposition: 'Other' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().exception, `${EXC}ConflictException`);
    assert.equal((await t.request('GET', `/services/${s}/states/${st}`)).json().disposition, 'Identified');
    const missing = await t.request('POST', `/services/${s}/states/99999/end`, {});
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().message, 'There are no state found for : 99999');
    assert.equal((await t.request('GET', `/services/${s}/states/99999`)).statusCode, 404);
    assert.equal((await t.request('GET', `/services/${s}/states/abc`)).statusCode, 400);
    assert.equal((await t.request('GET', `/services/${s}/states/2147483648`)).statusCode, 400);
  });

  test('a state of another service is not found through this service', async () => {
    const s = await startService(t, { contact_key: 'K6', service_type: 'A' });
    const other = await startService(t, { contact_key: 'K7', service_type: 'A' });
    const st = await startState(other, { state_type: 1 });
    assert.equal((await t.request('GET', `/services/${s}/states/${st}`)).statusCode, 404);
    assert.equal((await t.request('POST', `/services/${s}/states/${st}/end`, {})).statusCode, 404);
    assert.equal((await t.request('PUT', `/services/${s}/states/${st}/extensions/x`, { a: 1 })).statusCode, 404);
  });

  test('states may be started and ended on a completed service; several active states of one type coexist', async () => {
    const s = await startService(t, { contact_key: 'K8', service_type: 'A' });
    await t.request('POST', `/services/${s}/end`, {});
    const a = await startState(s, { state_type: 'Wait' });
    const b = await startState(s, { state_type: 'Wait' });
    assert.equal((await t.request('GET', `/services/${s}/states/active`)).json().length, 2);
    assert.equal((await t.request('POST', `/services/${s}/states/${a}/end`, {})).statusCode, 204);
    assert.deepEqual((await t.request('GET', `/services/${s}/states/active`)).json().map((x: { state_id: number }) => x.state_id), [b]);
  });
});

describe('transition', () => {
  test('ends from.state_id with its disposition and starts to.state_type in one step, sharing event fields', async () => {
    const s = await startService(t, { contact_key: 'K9', service_type: 'A' });
    const from = await startState(s, { state_type: 'Identify', timestamp: '2024-01-01T00:00:00Z' });
    const res = await t.request('POST', `/services/${s}/states/transition`, {
      from: { state_id: from, disposition: 'Identified', disposition_desc: 'PIN ok' },
      to: { state_type: 'Delivering', est_duration: 300 },
      interaction_id: 'IX-42',
      media_type: 'voice',
      timestamp: '2024-01-01T00:00:10Z',
      Offer: { id: 7 },
    });
    assert.equal(res.statusCode, 201, res.body);
    const to = res.json().state_id;
    assert.equal(res.headers.location, `/genesys/1/cs/services/${s}/states/${to}`);
    const old = (await t.request('GET', `/services/${s}/states/${from}?extensions=*`)).json();
    assert.equal(old.disposition, 'Identified');
    assert.equal(old.disposition_desc, 'PIN ok');
    assert.deepEqual(old.completed, { timestamp: '2024-01-01T00:00:10.000Z', interaction_id: 'IX-42', media_type: 'voice' });
    assert.equal(old.Offer, undefined);
    const fresh = (await t.request('GET', `/services/${s}/states/${to}?extensions=Offer`)).json();
    assert.equal(fresh.state_type, 'Delivering');
    assert.equal(fresh.est_duration, 300);
    assert.deepEqual(fresh.started, { timestamp: '2024-01-01T00:00:10.000Z', interaction_id: 'IX-42', media_type: 'voice', previous_state_id: from });
    assert.deepEqual(fresh.Offer, { id: 7 });
  });

  test('an unknown or already-ended from state changes nothing', async () => {
    const s = await startService(t, { contact_key: 'K10', service_type: 'A' });
    const done = await startState(s, { state_type: 1 });
    await t.request('POST', `/services/${s}/states/${done}/end`, {});
    const snapshot = (await t.request('GET', `/services/${s}/states`)).body;

    const unknown = await t.request('POST', `/services/${s}/states/transition`, { from: { state_id: 987654 }, to: { state_type: 2 } });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().message, /from\.state_id/);
    const ended = await t.request('POST', `/services/${s}/states/transition`, { from: { state_id: done, disposition: 'X' }, to: { state_type: 2 } });
    assert.equal(ended.statusCode, 409);
    assert.equal((await t.request('GET', `/services/${s}/states`)).body, snapshot);

    for (const body of [{ to: { state_type: 2 } }, { from: { state_id: done } }, { from: { state_id: done }, to: {} }, { from: 5, to: { state_type: 1 } }]) {
      assert.equal((await t.request('POST', `/services/${s}/states/transition`, body)).statusCode, 400, JSON.stringify(body));
    }
    assert.equal((await t.request('GET', `/services/${s}/states`)).body, snapshot);
    assert.equal((await t.request('POST', '/services/8888888/states/transition', { from: { state_id: done }, to: { state_type: 2 } })).statusCode, 404);
  });
});

describe('state queries', () => {
  test('lists: oldest first, state_types (comma and repeated), active/completed, limit/offset, top-level service_id', async () => {
    const s = await startService(t, { contact_key: 'K11', service_type: 'A' });
    const a = await startState(s, { state_type: 'X', timestamp: '2024-01-01T00:00:03Z' });
    const b = await startState(s, { state_type: 'Y', timestamp: '2024-01-01T00:00:01Z' });
    const c = await startState(s, { state_type: 7, timestamp: '2024-01-01T00:00:02Z' });
    await t.request('POST', `/services/${s}/states/${b}/end`, {});
    const ids = async (q: string) => ((await t.request('GET', `/services/${s}/states${q}`)).json() as { state_id: number }[]).map((x) => x.state_id);
    assert.deepEqual(await ids(''), [b, c, a]);
    assert.deepEqual(await ids('/active'), [c, a]);
    assert.deepEqual(await ids('/completed'), [b]);
    assert.deepEqual(await ids('?state_types=X,7'), [c, a]);
    assert.deepEqual(await ids('?state_types=X&state_types=Y'), [b, a]);
    assert.deepEqual(await ids('?limit=1&offset=1'), [c]);
    const [first] = (await t.request('GET', `/services/${s}/states`)).json();
    assert.equal(first.service_id, Number(s));
    assert.equal((await t.request('GET', '/services/1234567/states')).statusCode, 404);
  });

  test('nesting: tasks under their state, extensions by level', async () => {
    const s = await startService(t, { contact_key: 'K12', service_type: 'A', SvcExt: { v: 1 } });
    const st = await startState(s, { state_type: 1, StExt: { v: 2 } });
    const t1 = (await t.request('POST', `/services/${s}/tasks/start`, { state_id: st, task_type: 'T', TkExt: { v: 3 } })).json().task_id;
    const t2 = (await t.request('POST', `/services/${s}/tasks/start`, { state_id: st, task_type: 'T' })).json().task_id;
    const loose = (await t.request('POST', `/services/${s}/tasks/start`, { task_type: 'L' })).json().task_id;
    await t.request('POST', `/services/${s}/tasks/${t2}/end`, {});

    const [state] = (await t.request('GET', `/services/${s}/states?active_tasks=true&completed_tasks=true&extensions=StExt,Task.TkExt`)).json();
    assert.deepEqual(state.StExt, { v: 2 });
    assert.deepEqual(state.active_tasks.map((x: { task_id: number }) => x.task_id), [t1]);
    assert.deepEqual(state.completed_tasks.map((x: { task_id: number }) => x.task_id), [t2]);
    assert.deepEqual(state.active_tasks[0].TkExt, { v: 3 });
    assert.equal(state.active_tasks[0].service_id, undefined, 'nested tasks omit service_id');

    const byId = (await t.request('GET', `/services/${s}/states/${st}?completed_tasks=true`)).json();
    assert.equal(byId.active_tasks, undefined);
    assert.deepEqual(byId.completed_tasks.map((x: { task_id: number }) => x.task_id), [t2]);
    assert.equal(byId.StExt, undefined);

    const service = (
      await t.request('GET', `/services/${s}?active_states=true&active_tasks=true&completed_tasks=true&extensions=State.*,Task.TkExt`)
    ).json();
    assert.equal(service.SvcExt, undefined, 'State.* and Task.X do not select service extensions');
    assert.equal(service.active_states[0].service_id, undefined);
    assert.deepEqual(service.active_states[0].StExt, { v: 2 });
    assert.equal(service.completed_states, undefined);
    assert.deepEqual(service.active_tasks.map((x: { task_id: number }) => x.task_id), [t1, loose]);
    assert.deepEqual(service.active_tasks[0].TkExt, { v: 3 });
    assert.equal(service.active_tasks[0].state_id, st);
    assert.equal(service.active_tasks[1].state_id, undefined);
    assert.deepEqual(service.completed_tasks.map((x: { task_id: number }) => x.task_id), [t2]);

    const everything = (await t.request('GET', `/services/${s}?active_states=true&active_tasks=true&extensions=*`)).json();
    assert.deepEqual(everything.SvcExt, { v: 1 });
    assert.deepEqual(everything.active_states[0].StExt, { v: 2 });
    assert.deepEqual(everything.active_tasks[0].TkExt, { v: 3 });

    const list = (await t.request('GET', `/services/anonymous/K12?active_states=true&completed_states=true`)).json();
    assert.equal(list[0].active_states.length, 1);
    assert.deepEqual(list[0].completed_states, []);
  });

  test('PUT state extension: 200, replaces, case-insensitive', async () => {
    const s = await startService(t, { contact_key: 'K13', service_type: 'A' });
    const st = await startState(s, { state_type: 1 });
    assert.equal((await t.request('PUT', `/services/${s}/states/${st}/extensions/Feedback`, { rating: 7 })).statusCode, 200);
    assert.equal((await t.request('PUT', `/services/${s}/states/${st}/extensions/feedback`, [{ rating: 1 }, { rating: 2 }])).statusCode, 200);
    const got = (await t.request('GET', `/services/${s}/states/${st}?extensions=FEEDBACK`)).json();
    assert.deepEqual(got.feedback, [{ rating: 1 }, { rating: 2 }]);
    assert.equal((await t.request('PUT', `/services/${s}/states/4040404/extensions/x`, { a: 1 })).statusCode, 404);
  });
});
