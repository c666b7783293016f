// The funnel against a brute-force computation over the raw rows: services of several types, each
// through a random path of states (steps skipped, repeated, out of order), some completed with a
// disposition; more services than one page. Counts exact; median times within the stated 1 %.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RELATIVE_ACCURACY } from '../../src/domain/analytics.js';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';

const MINUTE = 60_000;
const base = Date.UTC(2026, 7, 1, 9);
const clock = manualClock(base + 24 * 60 * MINUTE);
let t: TestApp;
before(async () => {
  t = await createTestApp({ clock: clock.now });
});
after(async () => t.close());

function random(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] the funnel matches the raw rows`, async () => {
  const next = random(3);
  const at = (ms: number) => new Date(ms).toISOString();
  // states by dbid (4 is Waiting for service agent, 6 Offering callback) and by name
  const kinds = ['Customer identification', 4, 'Waiting for service agent', 6, 'Callback pending', 'Delivering service'];
  // the state starts are written in batches: 1,100 services, more than one page of the walk
  for (let i = 0; i < 1100; i++) {
    let time = base + Math.floor(next() * 12 * 60) * MINUTE;
    const id = await startService(t, { customer_id: `FUN-${i}`, service_type: i % 5 === 0 ? 'Sales' : 'Billing', timestamp: at(time) });
    const count = Math.floor(next() * 5);
    await Promise.all(
      Array.from({ length: count }, (_, s) => t.request('POST', `/services/${id}/states/start`, { state_type: kinds[Math.floor(next() * kinds.length)], timestamp: at(time + (s + 1) * Math.floor(1 + next() * 9) * MINUTE) })),
    );
    time += 60 * MINUTE;
    if (next() < 0.5) await t.request('POST', `/services/${id}/end`, { timestamp: at(time), ...(next() < 0.7 ? { disposition: next() < 0.5 ? 'Resolved' : 'Abandoned' } : {}) });
  }
  const from = base + 2 * 60 * MINUTE;
  const to = base + 10 * 60 * MINUTE;
  const steps = ['Customer identification', 'Waiting for service agent', 'Offering callback'];
  const response = await t.request('GET', `/analytics/funnel?service_type=Billing&steps=${steps.map(encodeURIComponent).join(',')}&from=${at(from)}&to=${at(to)}`);
  assert.equal(response.statusCode, 200, response.body);
  const answer = response.json();

  // brute force
  const services = (await t.raw(
    "SELECT service_id, started_at, completed_at, doc FROM services WHERE service_type = 'Billing' AND started_at >= ? AND started_at < ?",
    from,
    to,
  )) as unknown as { service_id: number; started_at: number; completed_at: number | null; doc: string }[];
  const states = (await t.raw('SELECT service_id, state_type, started_at, state_id FROM states ORDER BY service_id, started_at, state_id')) as unknown as {
    service_id: number;
    state_type: string;
    started_at: number;
  }[];
  const matches = [['Customer identification', '1'], ['Waiting for service agent', '4'], ['Offering callback', '6']];
  const reached = [0, 0, 0];
  const gaps: number[][] = [[], [], []];
  const stops = new Map<number, { count: number; active: number; dispositions: Map<unknown, number>; last: Map<unknown, number> }>();
  for (const service of services) {
    const mine = states.filter((s) => s.service_id === service.service_id);
    let step = 0;
    let previous = 0;
    for (const s of mine) {
      if (step === 3) break;
      if (!matches[step].includes(s.state_type)) continue;
      reached[step]++;
      if (step > 0) gaps[step].push(Number(s.started_at) - previous);
      previous = Number(s.started_at);
      step++;
    }
    if (step === 3) continue;
    const stop = stops.get(step) ?? { count: 0, active: 0, dispositions: new Map(), last: new Map() };
    stop.count++;
    if (service.completed_at === null) stop.active++;
    else {
      const d = JSON.parse(service.doc).disposition ?? null;
      stop.dispositions.set(d, (stop.dispositions.get(d) ?? 0) + 1);
    }
    // without map-names a type is shown as stored: a dbid as a number
    const shownLast = (type: string | undefined) => (type === undefined ? null : /^\d+$/.test(type) ? Number(type) : type);
    const last = shownLast(mine.at(-1)?.state_type);
    stop.last.set(last, (stop.last.get(last) ?? 0) + 1);
    stops.set(step, stop);
  }
  assert.equal(answer.services, services.length);
  assert.ok(services.length > 500, 'more than a page of services in the window');
  assert.deepEqual(answer.steps.map((s: { state_type: string }) => s.state_type), steps);
  assert.deepEqual(answer.steps.map((s: { reached: number }) => s.reached), reached);
  for (let i = 0; i < 3; i++) {
    const conversion = reached[i] / (i === 0 ? services.length : reached[i - 1]);
    assert.ok(Math.abs(answer.steps[i].conversion - conversion) < 1e-12);
    if (i === 0) {
      assert.equal(answer.steps[0].median_ms_from_previous, undefined);
      continue;
    }
    const sorted = gaps[i].sort((a, b) => a - b);
    const exact = sorted[Math.floor(0.5 * (sorted.length - 1))];
    assert.ok(Math.abs(answer.steps[i].median_ms_from_previous - exact) <= RELATIVE_ACCURACY * exact + 1e-9, `step ${i}: ${answer.steps[i].median_ms_from_previous} against ${exact}`);
  }
  assert.deepEqual(answer.stopped.map((s: { after_step: number }) => s.after_step), [...stops.keys()].sort());
  for (const stop of answer.stopped) {
    const want = stops.get(stop.after_step)!;
    assert.deepEqual([stop.count, stop.active], [want.count, want.active]);
    assert.deepEqual(new Map(stop.dispositions.map((d: { disposition: unknown; count: number }) => [d.disposition, d.count])), want.dispositions);
    assert.deepEqual(new Map(stop.last_states.map((d: { state_type: unknown; count: number }) => [d.state_type, d.count])), want.last);
  }
});

test('bad funnels are 400s that say why', async () => {
  for (const [query, says] of [
    ['steps=A', /service_type/],
    ['service_type=Billing', /steps/],
    [`service_type=Billing&steps=${'A,'.repeat(11)}`, /1 to 10/],
    ['service_type=Billing&steps=A&from=2026-08-02T00:00:00Z&to=2026-08-01T00:00:00Z', /before/],
    ['service_type=Billing&steps=A&from=soon', /ISO 8601/],
  ] as const) {
    const response = await t.request('GET', `/analytics/funnel?${query}`);
    assert.equal(response.statusCode, 400, query);
    assert.match(response.json().message, says, response.body);
  }
});
