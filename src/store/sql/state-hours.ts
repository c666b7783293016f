// Time-in-state rollups (migration 010, domain/analytics.ts), written once for both stores. A batch
// adds its writes' deltas in two statements however many states it started or ended (runBatch); a
// deletion counts the open states it takes as removed, read from the rows it is about to delete.
import type { StateHourDelta, StateHourTotals, StateQuery } from '../../domain/analytics.js';
import type { ColumnType, Dialect, SqlReader, SqlWriter } from './dialect.js';

const KEY = 'hour, state_type, service_type, media_type';
// hour, state type, service type, media type, started, completed, removed, duration sum, duration max
const HOUR_TYPES: readonly ColumnType[] = ['bigint', 'text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint'];
// hour, state type, service type, media type, bin, count
const BIN_TYPES: readonly ColumnType[] = ['bigint', 'text', 'text', 'text', 'int', 'bigint'];

/** Adds a batch's deltas (merged by key). */
export async function addStateHours(tx: SqlWriter, d: Dialect, deltas: readonly StateHourDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const hours = deltas.map((x) => [x.hour, x.stateType, x.serviceType, x.mediaType, x.started, x.completed, x.removed, x.durationSum, x.durationMax]);
  // WHERE TRUE: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON
  await tx.run(
    `INSERT INTO state_hours (${KEY}, started, completed, removed, duration_sum, duration_max) SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8 FROM ${d.rows(HOUR_TYPES)} WHERE TRUE
     ON CONFLICT (${KEY}) DO UPDATE SET started = state_hours.started + excluded.started, completed = state_hours.completed + excluded.completed,
       removed = state_hours.removed + excluded.removed, duration_sum = state_hours.duration_sum + excluded.duration_sum,
       duration_max = CASE WHEN excluded.duration_max > state_hours.duration_max THEN excluded.duration_max ELSE state_hours.duration_max END`,
    d.rowParams(HOUR_TYPES, hours),
  );
  const bins = deltas.flatMap((x) => [...x.bins].map(([bin, n]) => [x.hour, x.stateType, x.serviceType, x.mediaType, bin, n]));
  if (bins.length === 0) return;
  await tx.run(
    `INSERT INTO state_hour_bins (${KEY}, bin, n) SELECT c0, c1, c2, c3, c4, c5 FROM ${d.rows(BIN_TYPES)} WHERE TRUE
     ON CONFLICT (${KEY}, bin) DO UPDATE SET n = state_hour_bins.n + excluded.n`,
    d.rowParams(BIN_TYPES, bins),
  );
}

/** Before services are deleted: their counted open states become `removed` in their hours. `servicesWhere` selects the services (on `v`). */
export async function removeOpenStates(tx: SqlWriter, servicesWhere: string, params: readonly unknown[]): Promise<void> {
  await tx.run(
    `INSERT INTO state_hours (${KEY}, started, completed, removed, duration_sum, duration_max)
     SELECT s.started_at / 3600000, COALESCE(s.state_type, ''), COALESCE(v.service_type, ''), COALESCE(s.media_type, ''), 0, 0, COUNT(*), 0, 0
     FROM states s JOIN services v ON v.service_id = s.service_id
     WHERE s.completed_at IS NULL AND s.counted AND ${servicesWhere}
     GROUP BY s.started_at / 3600000, COALESCE(s.state_type, ''), COALESCE(v.service_type, ''), COALESCE(s.media_type, '')
     ON CONFLICT (${KEY}) DO UPDATE SET removed = state_hours.removed + excluded.removed`,
    params,
  );
}

const GROUP_COLUMN = { service_type: 'service_type', media_type: 'media_type', hour: 'hour', day: 'hour / 24' } as const;

function where(d: Dialect, q: StateQuery): { sql: string; params: unknown[] } {
  let sql = 'hour >= ? AND hour < ?';
  const params: unknown[] = [q.fromHour, q.toHour];
  if (q.stateTypes.length > 0) {
    sql += ` AND ${d.inList('state_type', 'text')}`;
    params.push(d.list(q.stateTypes));
  }
  if (q.serviceTypes.length > 0) {
    sql += ` AND ${d.inList('service_type', 'text')}`;
    params.push(d.list(q.serviceTypes));
  }
  return { sql, params };
}


/** The window's totals per state type (and group), with their duration bins. */
export async function stateHourTotals(read: SqlReader, d: Dialect, q: StateQuery): Promise<StateHourTotals[]> {
  const { sql, params } = where(d, q);
  const group = q.groupBy ? `, ${GROUP_COLUMN[q.groupBy]} AS g` : '';
  const groupBy = q.groupBy ? `, ${GROUP_COLUMN[q.groupBy]}` : '';
  const totals = await read.all<{ state_type: string; g?: string | number | bigint; started: unknown; completed: unknown; removed: unknown; duration_sum: unknown; duration_max: unknown }>(
    `SELECT state_type${group}, SUM(started) AS started, SUM(completed) AS completed, SUM(removed) AS removed, SUM(duration_sum) AS duration_sum, MAX(duration_max) AS duration_max
     FROM state_hours WHERE ${sql} GROUP BY state_type${groupBy}`,
    params,
  );
  const bins = await read.all<{ state_type: string; g?: string | number | bigint; bin: number; n: unknown }>(
    `SELECT state_type${group}, bin, SUM(n) AS n FROM state_hour_bins WHERE ${sql} GROUP BY state_type${groupBy}, bin`,
    params,
  );
  const keyOf = (r: { state_type: string; g?: unknown }) => JSON.stringify([r.state_type, r.g === undefined ? null : String(r.g)]);
  const byKey = new Map<string, [number, number][]>();
  for (const b of bins) {
    const key = keyOf(b);
    const list = byKey.get(key) ?? [];
    list.push([Number(b.bin), Number(b.n)]);
    byKey.set(key, list);
  }
  const numeric = q.groupBy === 'hour' || q.groupBy === 'day';
  return totals.map((r) => ({
    stateType: r.state_type,
    group: r.g === undefined ? undefined : numeric ? Number(r.g) : String(r.g),
    started: Number(r.started),
    completed: Number(r.completed),
    removed: Number(r.removed),
    durationSum: Number(r.duration_sum),
    durationMax: Number(r.duration_max),
    bins: byKey.get(keyOf(r)) ?? [],
  }));
}
