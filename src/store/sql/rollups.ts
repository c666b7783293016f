// The time-in-state and outcome rollups (migrations 010 and 012, domain/analytics.ts), written once for
// both stores. A batch adds its writes' deltas in two statements per rollup however many elements it
// started or ended (runBatch), to the rows of its group-commit slot (shard): batches committing side
// by side on PostgreSQL never wait on one hot row; readers sum the shards with the hours. A deletion
// counts the open states and services it takes as removed, read from the rows it is about to delete.
import type { HourDelta, RollupKind, ServiceHourTotals, StateHourTotals, StateQuery } from '../../domain/analytics.js';
import type { ColumnType, Dialect, SqlReader, SqlWriter, Statement } from './dialect.js';

interface Rollup {
  hours: string;
  bins: string;
  /** the key columns after hour, in HourDelta.keys order */
  keys: readonly string[];
}

const ROLLUPS: Record<RollupKind, Rollup> = {
  state: { hours: 'state_hours', bins: 'state_hour_bins', keys: ['state_type', 'service_type', 'media_type'] },
  service: { hours: 'service_hours', bins: 'service_hour_bins', keys: ['service_type', 'disposition'] },
};

/** Adds a batch's deltas (merged by key) to their rollups' rows of `shard`: two statements per kind. */
export async function addRollups(tx: SqlWriter, d: Dialect, deltas: readonly HourDelta[], shard: number, ahead?: Statement): Promise<void> {
  // `ahead` (the batch's re-arm of the services it holds) goes with the first upsert where a WITH can
  // carry it: one round trip fewer on PostgreSQL. It takes no lock of its own (the batch holds those
  // rows already), so sending it beside the upsert changes no lock order.
  let leading = ahead;
  const withLeading = async (sql: string, params: unknown[]) => {
    const first = leading;
    leading = undefined;
    if (first && d.writableWith) return tx.run(`WITH touched AS (${first.sql}) ${sql}`, [...first.params, ...params]);
    if (first) await tx.run(first.sql, first.params);
    return tx.run(sql, params);
  };
  for (const kind of ['state', 'service'] as const) {
    const mine = deltas.filter((x) => x.kind === kind);
    if (mine.length === 0) continue;
    const { hours, bins, keys } = ROLLUPS[kind];
    const key = ['hour', ...keys, 'shard'].join(', ');
    const keyTypes: ColumnType[] = ['bigint', ...keys.map(() => 'text' as const), 'int'];
    const hourTypes: ColumnType[] = [...keyTypes, 'bigint', 'bigint', 'bigint', 'bigint', 'bigint'];
    const columns = (types: readonly ColumnType[]) => types.map((_, i) => `c${i}`).join(', ');
    // WHERE TRUE: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON
    await withLeading(
      `INSERT INTO ${hours} (${key}, started, completed, removed, duration_sum, duration_max) SELECT ${columns(hourTypes)} FROM ${d.rows(hourTypes)} WHERE TRUE
       ON CONFLICT (${key}) DO UPDATE SET started = ${hours}.started + excluded.started, completed = ${hours}.completed + excluded.completed,
         removed = ${hours}.removed + excluded.removed, duration_sum = ${hours}.duration_sum + excluded.duration_sum,
         duration_max = CASE WHEN excluded.duration_max > ${hours}.duration_max THEN excluded.duration_max ELSE ${hours}.duration_max END`,
      d.rowParams(hourTypes, mine.map((x) => [x.hour, ...x.keys, shard, x.started, x.completed, x.removed, x.durationSum, x.durationMax])),
    );
    const binTypes: ColumnType[] = [...keyTypes, 'int', 'bigint'];
    const binRows = mine.flatMap((x) => [...x.bins].map(([bin, n]) => [x.hour, ...x.keys, shard, bin, n]));
    if (binRows.length === 0) continue;
    await tx.run(
      `INSERT INTO ${bins} (${key}, bin, n) SELECT ${columns(binTypes)} FROM ${d.rows(binTypes)} WHERE TRUE
       ON CONFLICT (${key}, bin) DO UPDATE SET n = ${bins}.n + excluded.n`,
      d.rowParams(binTypes, binRows),
    );
  }
  if (leading) await tx.run(leading.sql, leading.params);
}

/**
 * What deleting the services `servicesWhere` selects (on `v`) removes from the rollups: their counted
 * open states and, when open, the services themselves. Read while planning; the batch adds them with
 * every other delta, after the outbox's counter row (one lock order for every batch).
 */
export async function openRemovals(read: SqlReader, servicesWhere: string, params: readonly unknown[]): Promise<HourDelta[]> {
  const states = await read.all<{ hour: unknown; state_type: string; service_type: string; media_type: string; n: unknown }>(
    `SELECT s.started_at / 3600000 AS hour, COALESCE(s.state_type, '') AS state_type, COALESCE(v.service_type, '') AS service_type, COALESCE(s.media_type, '') AS media_type, COUNT(*) AS n
     FROM states s JOIN services v ON v.service_id = s.service_id
     WHERE s.completed_at IS NULL AND s.counted AND ${servicesWhere}
     GROUP BY s.started_at / 3600000, COALESCE(s.state_type, ''), COALESCE(v.service_type, ''), COALESCE(s.media_type, '')`,
    params,
  );
  const services = await read.all<{ hour: unknown; service_type: string; n: unknown }>(
    `SELECT v.started_at / 3600000 AS hour, COALESCE(v.service_type, '') AS service_type, COUNT(*) AS n
     FROM services v WHERE v.completed_at IS NULL AND v.counted AND ${servicesWhere}
     GROUP BY v.started_at / 3600000, COALESCE(v.service_type, '')`,
    params,
  );
  const removal = (kind: RollupKind, hour: unknown, keys: string[], n: unknown): HourDelta => ({
    kind,
    hour: Number(hour),
    keys,
    started: 0,
    completed: 0,
    removed: Number(n),
    durationSum: 0,
    durationMax: 0,
    bins: new Map(),
  });
  return [
    ...states.map((r) => removal('state', r.hour, [r.state_type, r.service_type, r.media_type], r.n)),
    ...services.map((r) => removal('service', r.hour, [r.service_type, ''], r.n)),
  ];
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


/** The window's services per service type and disposition ('' for open ones and none), with their duration bins. */
export async function serviceHourTotals(read: SqlReader, d: Dialect, q: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes'>): Promise<ServiceHourTotals[]> {
  let where = 'hour >= ? AND hour < ?';
  const params: unknown[] = [q.fromHour, q.toHour];
  if (q.serviceTypes.length > 0) {
    where += ` AND ${d.inList('service_type', 'text')}`;
    params.push(d.list(q.serviceTypes));
  }
  const totals = await read.all<{ service_type: string; disposition: string; started: unknown; completed: unknown; removed: unknown; duration_sum: unknown; duration_max: unknown }>(
    `SELECT service_type, disposition, SUM(started) AS started, SUM(completed) AS completed, SUM(removed) AS removed, SUM(duration_sum) AS duration_sum, MAX(duration_max) AS duration_max
     FROM service_hours WHERE ${where} GROUP BY service_type, disposition`,
    params,
  );
  const bins = await read.all<{ service_type: string; disposition: string; bin: number; n: unknown }>(
    `SELECT service_type, disposition, bin, SUM(n) AS n FROM service_hour_bins WHERE ${where} GROUP BY service_type, disposition, bin`,
    params,
  );
  const byKey = new Map<string, [number, number][]>();
  for (const b of bins) {
    const key = JSON.stringify([b.service_type, b.disposition]);
    byKey.set(key, [...(byKey.get(key) ?? []), [Number(b.bin), Number(b.n)]]);
  }
  return totals.map((r) => ({
    serviceType: r.service_type,
    disposition: r.disposition,
    started: Number(r.started),
    completed: Number(r.completed),
    removed: Number(r.removed),
    durationSum: Number(r.duration_sum),
    durationMax: Number(r.duration_max),
    bins: byKey.get(JSON.stringify([r.service_type, r.disposition])) ?? [],
  }));
}
