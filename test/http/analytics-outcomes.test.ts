// Outcomes against a brute-force computation over the raw rows: services over several hours (types by
// name and by dbid), ended with dispositions or none, left open, deleted open. Counts, means and
// maxima exact; times to complete within the stated 1 %.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RELATIVE_ACCURACY } from '../../src/domain/analytics.js';
import { createTestApp, startService, type TestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';

const HOUR = 3_600_000;
const base = Date.UTC(2026, 6, 1, 6);
const clock = manualClock(base + 12 * HOUR);
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

const showType = (s: string) => (s === '3' ? 'Billing' : /^\d+$/.test(s) ? Number(s) : s);

function closeTo(actual: number, exact: number, label: string) {
  assert.ok(Math.abs(actual - exact) <= RELATIVE_ACCURACY * exact + 1e-9, `${label}: ${actual} against ${exact}`);
}

function checkDurations(got: Record<string, number> | undefined, durations: number[], label: string) {
  if (durations.length === 0) return assert.equal(got, undefined, label);
  const sorted = [...durations].sort((a, b) => a - b);
  assert.ok(got, label);
  assert.ok(Math.abs(got.mean - sorted.reduce((a, b) => a + b, 0) / sorted.length) < 1e-6, `${label}: mean`);
  assert.equal(got.max, sorted.at(-1), `${label}: max`);
  for (const [name, q] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) closeTo(got[name], sorted[Math.floor(q * (sorted.length - 1))], `${label}: ${name}`);
}

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] outcomes match the raw rows`, async () => {
  const next = random(11);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
  const at = (ms: number) => new Date(ms).toISOString();
  let removedSales = 0;
  for (let i = 0; i < 80; i++) {
    const started = base + Math.floor(next() * 8 * HOUR);
    const id = await startService(t, { customer_id: `OUT-${i}`, service_type: pick(['Billing', 3, 'Sales']), timestamp: at(started) });
    const roll = next();
    const ended = started + (roll < 0.1 ? 0 : Math.floor(next() * 2 * HOUR));
    if (roll < 0.7) {
      const disposition = pick(['Resolved', 'Escalated', undefined]);
      assert.equal((await t.request('POST', `/services/${id}/end`, { timestamp: at(ended), ...(disposition ? { disposition } : {}) })).statusCode, 204);
    }
  }
  // deleted while open: removed
  const gone = await startService(t, { customer_id: 'OUT-GONE', service_type: 'Sales', timestamp: at(base + HOUR) });
  assert.equal((await t.request('DELETE', `/services/${gone}`)).statusCode, 200);
  removedSales++;

  const rows = (await t.raw('SELECT service_type, started_at, completed_at, doc FROM services')) as unknown as { service_type: string; started_at: number; completed_at: number | null; doc: string }[];
  const checkAll = async (when: string) => {
    for (const [from, to] of [
      [base, base + 12 * HOUR],
      [base + 2 * HOUR, base + 5 * HOUR],
    ]) {
      const answer = (await t.request('GET', `/analytics/outcomes?from=${at(from)}&to=${at(to)}`)).json();
      const inWindow = rows.filter((r) => Number(r.started_at) >= from && Number(r.started_at) < to);
      const byType = new Map<unknown, typeof inWindow>();
      for (const r of inWindow) byType.set(showType(r.service_type), [...(byType.get(showType(r.service_type)) ?? []), r]);
      const removedHere = base + HOUR >= from && base + HOUR < to ? removedSales : 0;
      assert.deepEqual(answer.services.map((s: { service_type: unknown }) => s.service_type).sort(), [...byType.keys()].sort());
      for (const s of answer.services) {
        const mine = byType.get(s.service_type)!;
        const done = mine.filter((r) => r.completed_at !== null);
        const removed = s.service_type === 'Sales' ? removedHere : 0;
        assert.deepEqual([s.started, s.completed, s.active, s.removed], [mine.length + removed, done.length, mine.length - done.length, removed], `${when}: ${s.service_type}: counts`);
        checkDurations(s.time_to_complete_ms, done.map((r) => Number(r.completed_at) - Number(r.started_at)), `${when}: ${s.service_type}`);
        const byDisposition = new Map<unknown, number[]>();
        for (const r of done) {
          const disposition = JSON.parse(r.doc).disposition ?? null;
          byDisposition.set(disposition, [...(byDisposition.get(disposition) ?? []), Number(r.completed_at) - Number(r.started_at)]);
        }
        assert.deepEqual(s.dispositions.map((d: { disposition: unknown }) => d.disposition).sort(), [...byDisposition.keys()].sort());
        for (const d of s.dispositions) {
          assert.equal(d.completed, byDisposition.get(d.disposition)!.length);
          checkDurations(d.time_to_complete_ms, byDisposition.get(d.disposition)!, `${s.service_type} / ${d.disposition}`);
        }
      }
    }
  };
  // every delta still on the events (this app does not fold): the reports read them all from the tail
  await checkAll('unfolded');
  assert.ok((await t.store.foldRollups(100_000)).folded > 0);
  // a write outside every window, so that the reports are computed again (from the rows alone now)
  await startService(t, { customer_id: 'OUT-LATER', service_type: 'Sales', timestamp: at(base - 48 * HOUR) });
  await checkAll('folded');
  const filtered = (await t.request('GET', `/analytics/outcomes?from=${at(base)}&to=${at(base + 12 * HOUR)}&service_types=Billing`)).json();
  assert.deepEqual(filtered.services.map((s: { service_type: unknown }) => s.service_type), ['Billing'], 'Billing covers the services stored as 3');
});
