// The live board against a brute-force computation over the raw rows: generated journeys (types
// by name and by number; services ended with states left open; states ended), on a manual
// clock. Every count, oldest and median is exact.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';

const clock = manualClock(Date.UTC(2026, 5, 1, 12));
let t: TestApp;
before(async () => {
  t = await createTestApp({
    clock: clock.now,
    businessAttributes: { mapping: { 'Service.type': 'ServiceType' }, attributes: [{ name: 'ServiceType', dbid: 210, values: [{ name: 'Billing', dbid: 3 }] }], mapNames: true },
  });
});
after(async () => t.close());

/** A small deterministic generator: the same journeys on every run. */
function random(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

interface Row {
  type: string | null;
  started_at: number;
}

/** count, oldest and median (the mean of the two middle ones for an even count), per type. */
function expected(rows: Row[], show: (type: string | null) => unknown, now: number) {
  const groups = new Map<string, { type: unknown; starts: number[] }>();
  for (const row of rows) {
    const type = show(row.type);
    const key = JSON.stringify(type);
    const group = groups.get(key) ?? { type, starts: [] };
    group.starts.push(row.started_at);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map(({ type, starts }) => {
      starts.sort((a, b) => a - b);
      const n = starts.length;
      const median = n % 2 ? starts[(n - 1) / 2] : (starts[n / 2 - 1] + starts[n / 2]) / 2;
      return { type, active: n, oldest_started: new Date(starts[0]).toISOString(), oldest_age_seconds: (now - starts[0]) / 1000, median_age_seconds: (now - median) / 1000 };
    })
    .sort((a, b) => b.active - a.active || String(a.type).localeCompare(String(b.type)));
}

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] the live board matches the raw rows exactly`, async () => {
  const next = random(42);
  const types = ['Billing', 3, 'Sales', 7, 'Callback'] as const;
  const now = clock.now();
  for (let i = 0; i < 120; i++) {
    const type = types[Math.floor(next() * types.length)];
    const startedAt = now - Math.floor(next() * 3 * 3600_000);
    const body = { customer_id: `LIVE-${i % 17}`, service_type: type, timestamp: new Date(startedAt).toISOString() };
    const id = await startService(t, body);
    const states: number[] = [];
    for (let s = 0; s < Math.floor(next() * 4); s++) {
      const state = { state_type: ['Waiting', 'Offering callback', 6, 42][Math.floor(next() * 4)], timestamp: new Date(startedAt + s * 60_000).toISOString() };
      const response = await t.request('POST', `/services/${id}/states/start`, state);
      assert.equal(response.statusCode, 201, response.body);
      states.push(response.json().state_id);
    }
    if (states.length > 0 && next() < 0.4) assert.equal((await t.request('POST', `/services/${id}/states/${states[0]}/end`)).statusCode, 204);
    // a third of the services end, some of them with states still open
    if (next() < 0.33) assert.equal((await t.request('POST', `/services/${id}/end`)).statusCode, 204);
  }
  // a state started in a service that has ended waits for nobody either
  const ended = await startService(t, { customer_id: 'LIVE-X', service_type: 'Sales' });
  await t.request('POST', `/services/${ended}/end`);
  assert.equal((await t.request('POST', `/services/${ended}/states/start`, { state_type: 'Waiting' })).statusCode, 201);

  clock.advance(90_000);
  const response = await t.request('GET', '/analytics/live');
  assert.equal(response.statusCode, 200, response.body);
  const board = response.json();
  // brute force: every row of the two tables, filtered and grouped here
  const services = (await t.raw('SELECT service_type AS type, started_at, completed_at FROM services')) as unknown as (Row & { completed_at: number | null })[];
  const states = (await t.raw(
    'SELECT s.state_type AS type, s.started_at, s.completed_at, v.completed_at AS service_completed_at FROM states s JOIN services v ON v.service_id = s.service_id',
  )) as unknown as (Row & { completed_at: number | null; service_completed_at: number | null })[];
  const showService = (type: string | null) => (type === null ? null : type === '3' ? 'Billing' : /^\d+$/.test(type) ? Number(type) : type);
  // the built-in state types map dbid 6 to 'Offering callback' (and 42 to nothing)
  const showState = (type: string | null) => (type === null ? null : type === '6' ? 'Offering callback' : /^\d+$/.test(type) ? Number(type) : type);
  const wantServices = expected(services.filter((s) => s.completed_at === null).map((s) => ({ type: s.type, started_at: Number(s.started_at) })), showService, clock.now());
  const wantStates = expected(
    states.filter((s) => s.completed_at === null && s.service_completed_at === null).map((s) => ({ type: s.type, started_at: Number(s.started_at) })),
    showState,
    clock.now(),
  );
  assert.deepEqual(board.services, wantServices.map(({ type, ...rest }) => ({ service_type: type, ...rest })));
  assert.deepEqual(board.states, wantStates.map(({ type, ...rest }) => ({ state_type: type, ...rest })));
  assert.equal(board.active_services, wantServices.reduce((n, r) => n + r.active, 0));
  assert.equal(board.waiting_states, wantStates.reduce((n, r) => n + r.active, 0));
  assert.equal(board.at, new Date(clock.now()).toISOString());
  assert.ok(board.services.some((r: { service_type: unknown }) => r.service_type === 'Billing'), 'dbid 3 and Billing are one row');
  assert.ok(!board.services.some((r: { service_type: unknown }) => r.service_type === 3));
  assert.ok(board.services.length >= 4);
  assert.ok(board.states.some((r: { state_type: unknown }) => r.state_type === 42) && !board.states.some((r: { state_type: unknown }) => r.state_type === 6));
});

test('an empty partition has an empty board', async () => {
  const empty = await createTestApp();
  try {
    const board = (await empty.request('GET', '/analytics/live')).json();
    assert.deepEqual({ ...board, at: undefined }, { at: undefined, active_services: 0, waiting_states: 0, services: [], states: [] });
  } finally {
    await empty.close();
  }
});

test('readers share a board until the next write, which the next board shows', async () => {
  const scope = [...t.app.scopes.values()][0];
  const first = (await t.request('GET', '/analytics/live')).json();
  let computations = 0;
  const liveCounts = scope.store.liveCounts.bind(scope.store);
  scope.store.liveCounts = (of) => {
    computations++;
    return liveCounts(of);
  };
  try {
    clock.advance(10_000);
    const again = (await t.request('GET', '/analytics/live')).json();
    assert.equal(computations, 0, 'no write since: the same board');
    assert.deepEqual(again.services.map((r: { active: number }) => r.active), first.services.map((r: { active: number }) => r.active));
    assert.equal(again.services[0].oldest_age_seconds, first.services[0].oldest_age_seconds + 10, 'its ages move with the clock');
    const id = await startService(t, { customer_id: 'LIVE-NEW', service_type: 'Sales' });
    const after = (await t.request('GET', '/analytics/live')).json();
    assert.equal(computations, 2, 'a write: computed again (services and states)');
    assert.equal(after.active_services, first.active_services + 1);
    await t.request('POST', `/services/${id}/end`);
    assert.equal((await t.request('GET', '/analytics/live')).json().active_services, first.active_services);
  } finally {
    scope.store.liveCounts = liveCounts;
  }
});
