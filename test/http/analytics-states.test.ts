// Time in state against a brute-force computation over the raw rows: generated journeys over several
// hours (state types and service types by name and by dbid, media types, states ended, transitioned,
// left open, deleted open), every window, filter and grouping. Counts, means and maxima are exact;
// quantiles are within the stated 1 % of the true order statistic.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RELATIVE_ACCURACY } from '../../src/domain/analytics.js';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';

const HOUR = 3_600_000;
const base = Date.UTC(2026, 5, 1, 8);
const clock = manualClock(base + 10 * HOUR);
let t: TestApp;
before(async () => {
  t = await createTestApp({
    clock: clock.now,
    rollupFold: false,
    businessAttributes: { mapping: { 'Service.type': 'ServiceType' }, attributes: [{ name: 'ServiceType', dbid: 210, values: [{ name: 'Billing', dbid: 3 }] }], mapNames: true },
  });
});
after(async () => t.close());

function random(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

interface RawState {
  stateType: string;
  serviceType: string;
  mediaType: string;
  startedAt: number;
  duration?: number;
  open: boolean;
}

const removed: RawState[] = [];

const showState = (s: string) => (s === '6' ? 'Offering callback' : /^\d+$/.test(s) ? Number(s) : s);
const showService = (s: string) => (s === '3' ? 'Billing' : /^\d+$/.test(s) ? Number(s) : s);
const showMedia = (s: string) => (s === '' ? null : s);

async function rawStates(): Promise<RawState[]> {
  const rows = (await t.raw(
    'SELECT s.state_type, v.service_type, s.media_type, s.started_at, s.completed_at FROM states s JOIN services v ON v.service_id = s.service_id',
  )) as unknown as { state_type: string; service_type: string; media_type: string | null; started_at: number; completed_at: number | null }[];
  return rows.map((r) => ({
    stateType: r.state_type,
    serviceType: r.service_type,
    mediaType: r.media_type ?? '',
    startedAt: Number(r.started_at),
    duration: r.completed_at === null ? undefined : Number(r.completed_at) - Number(r.started_at),
    open: r.completed_at === null,
  }));
}

function groupOf(s: RawState, groupBy: string | undefined): unknown {
  if (groupBy === 'service_type') return showService(s.serviceType);
  if (groupBy === 'media_type') return showMedia(s.mediaType);
  if (groupBy === 'hour') return new Date(Math.floor(s.startedAt / HOUR) * HOUR).toISOString();
  if (groupBy === 'day') return new Date(Math.floor(s.startedAt / (24 * HOUR)) * 24 * HOUR).toISOString();
  return undefined;
}

function bruteForce(all: RawState[], gone: RawState[], fromHour: number, toHour: number, groupBy?: string, filter: (s: RawState) => boolean = () => true) {
  const groups = new Map<string, { state_type: unknown; group: unknown; started: number; completed: number; active: number; removed: number; durations: number[] }>();
  const inWindow = (s: RawState) => s.startedAt >= fromHour * HOUR && s.startedAt < toHour * HOUR && filter(s);
  const add = (s: RawState, isRemoved: boolean) => {
    const type = showState(s.stateType);
    const group = groupOf(s, groupBy);
    const key = JSON.stringify([type, group ?? null]);
    const g = groups.get(key) ?? { state_type: type, group, started: 0, completed: 0, active: 0, removed: 0, durations: [] };
    g.started++;
    if (isRemoved) g.removed++;
    else if (s.open) g.active++;
    else {
      g.completed++;
      g.durations.push(s.duration!);
    }
    groups.set(key, g);
  };
  for (const s of all.filter(inWindow)) add(s, false);
  for (const s of gone.filter(inWindow)) add(s, true);
  return groups;
}

function check(answer: { states: Record<string, unknown>[] }, want: ReturnType<typeof bruteForce>, label: string): void {
  assert.equal(answer.states.length, want.size, `${label}: one row per type and group`);
  for (const row of answer.states) {
    const key = JSON.stringify([row.state_type, row.group ?? null]);
    const w = want.get(key);
    assert.ok(w, `${label}: unexpected row ${key}`);
    assert.deepEqual([row.started, row.completed, row.active, row.removed], [w.started, w.completed, w.active, w.removed], `${label} ${key}: counts`);
    if (w.durations.length === 0) {
      assert.equal(row.duration_ms, undefined);
      continue;
    }
    const d = row.duration_ms as Record<string, number>;
    const sorted = [...w.durations].sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(d.mean - sum / sorted.length) < 1e-6, `${label} ${key}: mean`);
    assert.equal(d.max, sorted.at(-1), `${label} ${key}: max`);
    for (const [name, q] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))];
      assert.ok(Math.abs(d[name] - exact) <= RELATIVE_ACCURACY * exact + 1e-9, `${label} ${key}: ${name} ${d[name]} against ${exact}`);
    }
  }
}

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] time in state matches the raw rows for every window, filter and grouping`, async () => {
  const next = random(7);
  const serviceTypes = ['Billing', 3, 'Sales'];
  const stateTypes = ['Waiting', 6, 'Offering callback', 'Agent'];
  const medias = ['voice', 'chat', undefined];
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
  const at = (ms: number) => new Date(ms).toISOString();
  for (let i = 0; i < 60; i++) {
    let time = base + Math.floor(next() * 6 * HOUR);
    const id = await startService(t, { customer_id: `TIS-${i}`, service_type: pick(serviceTypes), timestamp: at(time) });
    const startState = async () => {
      const media = pick(medias);
      const response = await t.request('POST', `/services/${id}/states/start`, { state_type: pick(stateTypes), timestamp: at(time), ...(media ? { media_type: media } : {}) });
      assert.equal(response.statusCode, 201, response.body);
      return response.json().state_id as number;
    };
    let state = await startState();
    for (let s = 0; s < 3; s++) {
      const roll = next();
      // durations from 0 to an hour and a half, some of them zero
      time += roll < 0.1 ? 0 : Math.floor(next() * 1.5 * HOUR);
      if (roll < 0.45) {
        const to = { state_type: pick(stateTypes), timestamp: at(time) };
        const response = await t.request('POST', `/services/${id}/states/transition`, { from: { state_id: state, timestamp: at(time) }, to });
        assert.equal(response.statusCode, 201, response.body);
        state = response.json().state_id;
      } else if (roll < 0.8) {
        assert.equal((await t.request('POST', `/services/${id}/states/${state}/end`, { timestamp: at(time) })).statusCode, 204);
        state = await startState();
      } else break;
    }
    if (next() < 0.3) assert.equal((await t.request('POST', `/services/${id}/end`, { timestamp: at(time + 1000) })).statusCode, 204);
  }
  // a service deleted with a state open: that state counts as removed
  const doomed = await startService(t, { customer_id: 'TIS-GONE', service_type: 'Sales', timestamp: at(base + HOUR) });
  assert.equal((await t.request('POST', `/services/${doomed}/states/start`, { state_type: 'Waiting', timestamp: at(base + HOUR + 5) })).statusCode, 201);
  removed.push({ stateType: 'Waiting', serviceType: 'Sales', mediaType: '', startedAt: base + HOUR + 5, open: true });
  assert.equal((await t.request('DELETE', `/services/${doomed}`)).statusCode, 200);

  const raw = await rawStates();
  const fromHour = base / HOUR;
  const windows: [string, number, number][] = [
    ['the whole day', fromHour, fromHour + 12],
    ['hours 2 to 4', fromHour + 2, fromHour + 4],
  ];
  const checkAll = async (when: string) => {
    for (const [label, from, to] of windows) {
      for (const groupBy of [undefined, 'service_type', 'media_type', 'hour', 'day']) {
        const query = `from=${at(from * HOUR)}&to=${at(to * HOUR)}${groupBy ? `&group_by=${groupBy}` : ''}`;
        const response = await t.request('GET', `/analytics/states?${query}`);
        assert.equal(response.statusCode, 200, response.body);
        check(response.json(), bruteForce(raw, removed, from, to, groupBy), `${when}: ${label}, group_by=${groupBy}`);
      }
    }
    // filters: Billing covers the services stored as 3 too; Offering callback the states stored as 6
    const filtered = await t.request('GET', `/analytics/states?from=${at(base)}&to=${at(base + 12 * HOUR)}&service_types=Billing&state_types=Offering%20callback,Waiting`);
    check(
      filtered.json(),
      bruteForce(raw, removed, fromHour, fromHour + 12, undefined, (s) => showService(s.serviceType) === 'Billing' && ['Offering callback', 'Waiting'].includes(String(showState(s.stateType)))),
      `${when}: filtered`,
    );
  };
  // every delta still on the events (this app does not fold): the reports read them all from the tail
  await checkAll('unfolded');
  assert.ok((await t.store.foldRollups(100_000)).folded > 0);
  // a write outside every window, so that the reports are computed again (from the rows alone now)
  await startService(t, { customer_id: 'TIS-LATER', service_type: 'Sales', timestamp: at(base - 48 * HOUR) });
  await checkAll('folded');
  // the window is rounded out to whole hours
  const rounded = (await t.request('GET', `/analytics/states?from=${at(base + 30 * 60_000)}&to=${at(base + 90 * 60_000)}`)).json();
  assert.deepEqual([rounded.from, rounded.to], [at(base), at(base + 2 * HOUR)]);
});

test('bad windows and groupings are 400s that say why', async () => {
  for (const [query, says] of [
    ['from=yesterday', /from must be an ISO 8601/],
    ['from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z', /before/],
    ['from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', /at most 366 days/],
    ['group_by=week', /group_by must be one of/],
    ['colour=red', /colour/],
  ] as const) {
    const response = await t.request('GET', `/analytics/states?${query}`);
    assert.equal(response.statusCode, 400, query);
    assert.match(response.json().message, says);
  }
});

test('readers of the same report share it until the next write, which the next answer shows', async () => {
  const scope = [...t.app.scopes.values()][0];
  const url = `/analytics/states?from=${new Date(base).toISOString()}&to=${new Date(base + 12 * HOUR).toISOString()}&state_types=Shared`;
  const before = (await t.request('GET', url)).json();
  let computations = 0;
  const stateHourTotals = scope.store.stateHourTotals.bind(scope.store);
  scope.store.stateHourTotals = (query) => {
    computations++;
    return stateHourTotals(query);
  };
  try {
    const [a, b] = await Promise.all([t.request('GET', url), t.request('GET', url)]);
    assert.deepEqual(a.json(), before);
    assert.deepEqual(b.json(), before);
    assert.equal(a.body, b.body, 'the same answer, serialized once');
    assert.match(String(a.headers['content-type']), /^application\/json; charset=utf-8$/);
    assert.equal(computations, 0, 'no write since: the same report');
    const id = await startService(t, { customer_id: 'SHARED', service_type: 'Sales', timestamp: new Date(base + HOUR).toISOString() });
    await t.request('POST', `/services/${id}/states/start`, { state_type: 'Shared', timestamp: new Date(base + HOUR).toISOString() });
    const after = (await t.request('GET', url)).json();
    assert.equal(computations, 1, 'a write: computed again');
    const started = (answer: { states: { started: number }[] }) => answer.states.reduce((n, r) => n + r.started, 0);
    assert.equal(started(after), started(before) + 1);
  } finally {
    scope.store.stateHourTotals = stateHourTotals;
  }
});
