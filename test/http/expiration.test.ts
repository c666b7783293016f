import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';

// Time is a manual clock shared by the apps of a test and their stores: the test moves it instead of sleeping.
let clock = manualClock();
beforeEach(() => {
  clock = manualClock();
});
const app = (options: Parameters<typeof createTestApp>[0] = {}) => createTestApp({ ...options, clock: () => clock.now() });

async function visible(t: TestApp, id: string): Promise<boolean> {
  return (await t.request('GET', `/services/${id}`)).statusCode === 200;
}

async function rows(t: TestApp, id: string): Promise<number> {
  return Number((await t.raw('SELECT count(*) AS n FROM services WHERE service_id = ?', BigInt(id)))[0].n);
}

describe('expiration', () => {
  test('a ttl hides the service from every read at once when it passes; the sweep deletes it', async () => {
    const t = await app();
    try {
      const id = await startService(t, { customer_id: 'X1', service_type: 'A', ttl: 1 });
      const state = (await t.request('POST', `/services/${id}/states/start`, { state_type: 1 })).json().state_id;
      assert.equal(await visible(t, id), true);
      clock.advance(1200);
      assert.equal(await visible(t, id), false);
      assert.deepEqual((await t.request('GET', '/customers/X1/services')).json(), []);
      assert.equal((await t.request('GET', `/services/${id}/states/${state}`)).statusCode, 404);
      assert.equal((await t.request('GET', `/services/${id}/states`)).statusCode, 404);
      assert.equal((await t.request('POST', `/services/${id}/end`, {})).statusCode, 404, 'an expired service takes no writes');
      assert.deepEqual((await t.request('GET', '/maintenance/services/stream?time_from=2000-01-01T00:00:00Z')).json(), []);
      assert.equal(await rows(t, id), 1, 'still stored until the sweep');
      assert.deepEqual(await t.app.sweeper.runOnce(), { expired: 1, completed: 0 });
      assert.equal(await rows(t, id), 0);
      assert.equal(Number((await t.raw('SELECT count(*) AS n FROM states WHERE state_id = ?', state))[0].n), 0);
    } finally {
      await t.close();
    }
  });

  test('every write to the service or its states and tasks re-arms a ttl; expiration_time stays fixed', async () => {
    const t = await app();
    try {
      const rearmed = await startService(t, { customer_id: 'X2', service_type: 'A', ttl: 2 });
      const fixed = await startService(t, { customer_id: 'X2', service_type: 'A', expiration_time: new Date(clock.now() + 1500).toISOString() });
      // a state start carries rollups: on PostgreSQL its re-arm travels in their statement
      const byState = await startService(t, { customer_id: 'X2', service_type: 'A', ttl: 2 });
      clock.advance(1100);
      assert.equal((await t.request('POST', `/services/${rearmed}/tasks/start`, {})).statusCode, 201);
      assert.equal((await t.request('POST', `/services/${byState}/states/start`, { state_type: 'Waiting' })).statusCode, 201);
      assert.equal((await t.request('POST', `/services/${fixed}/tasks/start`, {})).statusCode, 201);
      clock.advance(1100); // 2.2 s after start, 1.1 s after the write
      assert.equal(await visible(t, rearmed), true, 're-armed by the task');
      assert.equal(await visible(t, byState), true, 're-armed by the state');
      assert.equal(await visible(t, fixed), false, 'expiration_time is not re-armed');
      // the sweep reads its own index of expiries (migration 016): a re-arm moves it too
      assert.deepEqual(await t.app.sweeper.runOnce(), { expired: 1, completed: 0 }, 'only the fixed one is swept');
      assert.equal(await rows(t, rearmed), 1);
      assert.equal(await rows(t, byState), 1);
      clock.advance(1100);
      assert.equal(await visible(t, rearmed), false);
      assert.deepEqual(await t.app.sweeper.runOnce(), { expired: 2, completed: 0 });
    } finally {
      await t.close();
    }
  });

  test('PUT /services/{id} and end events set the expiry; ttl wins over expiration_time', async () => {
    const t = await app();
    try {
      const a = await startService(t, { customer_id: 'X3', service_type: 'A' });
      const b = await startService(t, { customer_id: 'X3', service_type: 'A' });
      const c = await startService(t, { customer_id: 'X3', service_type: 'A' });
      assert.equal((await t.request('PUT', `/services/${a}`, { ttl: 1, expiration_time: '2100-01-01T00:00:00Z' })).statusCode, 200);
      assert.equal((await t.request('PUT', `/services/${b}`, { expiration_time: new Date(clock.now() - 1000).toISOString() })).statusCode, 200);
      assert.equal((await t.request('POST', `/services/${c}/end`, { ttl: 1 })).statusCode, 204);
      assert.equal(await visible(t, b), false, 'an expiration_time in the past hides it at once');
      assert.equal(await visible(t, a), true);
      clock.advance(1200);
      assert.equal(await visible(t, a), false);
      assert.equal(await visible(t, c), false);
    } finally {
      await t.close();
    }
  });

  test('cview/expiration is the default; a service type can carry its own', async () => {
    const t = await app({
      expiration: '1s',
      businessAttributes: {
        mapping: { 'Service.type': 'ServiceType' },
        attributes: [{ name: 'ServiceType', values: [{ name: 'Keep', dbid: 1, settings: { expiration: '1h' } }] }],
      },
    });
    try {
      const short = await startService(t, { customer_id: 'X4', service_type: 'Other' });
      const long = await startService(t, { customer_id: 'X4', service_type: 'Keep' });
      const own = await startService(t, { customer_id: 'X4', service_type: 'Other', ttl: 3600 });
      clock.advance(1200);
      assert.equal(await visible(t, short), false);
      assert.equal(await visible(t, long), true);
      assert.equal(await visible(t, own), true, 'a ttl on the event beats the configured default');
    } finally {
      await t.close();
    }
  });
});

describe('time boundaries, to the millisecond', () => {
  test('a ttl of 1 s: visible 999 ms after the last write, gone at 1,000 ms; a purge takes services started before its cut-off only', async () => {
    const t = await app();
    try {
      const id = await startService(t, { customer_id: 'EDGE', service_type: 'A', ttl: 1 });
      clock.advance(999);
      assert.equal(await visible(t, id), true);
      clock.advance(1);
      assert.equal(await visible(t, id), false);
      assert.deepEqual(await t.app.sweeper.runOnce(), { expired: 1, completed: 0 });
      const at = new Date(clock.now()).toISOString();
      const before = await startService(t, { customer_id: 'EDGE', service_type: 'A', timestamp: new Date(clock.now() - 1).toISOString() });
      const onTheCut = await startService(t, { customer_id: 'EDGE', service_type: 'A', timestamp: at });
      const purge = await t.request('POST', '/maintenance/purge', { limit: at, operation: 'purge.service.all' });
      assert.equal(purge.json().purged, 1, 'started before the cut-off: purged; started on it: kept');
      assert.equal(await visible(t, before), false);
      assert.equal(await visible(t, onTheCut), true);
    } finally {
      await t.close();
    }
  });
});

describe('auto-complete', () => {
  test('idle services complete with their active states and tasks; busy ones do not', async () => {
    const t = await app({ autoComplete: { enabled: true, afterSeconds: 1 } });
    try {
      const idle = await startService(t, { customer_id: 'AC', service_type: 'A' });
      const state = (await t.request('POST', `/services/${idle}/states/start`, { state_type: 1 })).json().state_id;
      const task = (await t.request('POST', `/services/${idle}/tasks/start`, { state_id: state })).json().task_id;
      const own = await startService(t, { customer_id: 'AC', service_type: 'A', auto_complete_after: 3600 });
      const busy = await startService(t, { customer_id: 'AC', service_type: 'A' });
      clock.advance(700);
      await t.request('POST', `/services/${busy}/tasks/start`, {});
      clock.advance(500);
      assert.deepEqual(await t.app.sweeper.runOnce(), { expired: 0, completed: 1 });
      const done = (await t.request('GET', `/services/${idle}?completed_states=true&completed_tasks=true`)).json();
      assert.ok(done.completed, 'the service completed');
      assert.deepEqual(done.completed_states.map((s: { state_id: number }) => s.state_id), [state]);
      assert.deepEqual(done.completed_tasks.map((k: { task_id: number }) => k.task_id), [task]);
      assert.equal((await t.request('GET', `/services/${own}`)).json().completed, undefined, 'its own auto_complete_after wins');
      assert.equal((await t.request('GET', `/services/${busy}`)).json().completed, undefined, 'written to recently');
    } finally {
      await t.close();
    }
  });

  test('a per-service auto_complete_after applies when enabled without a default; nothing when disabled', async () => {
    const enabled = await app({ autoComplete: { enabled: true } });
    const disabled = await app();
    try {
      const a = await startService(enabled, { customer_id: 'AC2', service_type: 'A', auto_complete_after: 1 });
      const b = await startService(enabled, { customer_id: 'AC2', service_type: 'A' });
      const c = await startService(disabled, { customer_id: 'AC2', service_type: 'A', auto_complete_after: 1 });
      clock.advance(1200);
      assert.equal((await enabled.app.sweeper.runOnce()).completed, 1);
      assert.ok((await enabled.request('GET', `/services/${a}`)).json().completed);
      assert.equal((await enabled.request('GET', `/services/${b}`)).json().completed, undefined);
      assert.equal((await disabled.app.sweeper.runOnce()).completed, 0);
      assert.equal((await disabled.request('GET', `/services/${c}`)).json().completed, undefined);
    } finally {
      await enabled.close();
      await disabled.close();
    }
  });
});
