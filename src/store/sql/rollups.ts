// The time-in-state and outcome rollups (migrations 010, 012 and 017, domain/analytics.ts), written
// once for both stores. A batch's writes' deltas, merged, ride on its last event (runBatch); the fold
// (foldRollups) adds the deltas of the events after its position to the rows, and moves the position,
// in one transaction. A report sums the rows of its window and adds the deltas of the events after the
// position — the tail — read in the same statement, so answers are exact however far behind the fold
// is. Rows carry a shard (the fold's own; a group-commit slot's for the rare batch that adds its
// deltas itself), which readers sum with the hours. A deletion counts the open states and services it
// takes as removed, read from the rows it is about to delete.
import { decodeDeltas, mergeDeltas, type HourDelta, type RollupKind, type ServiceHourTotals, type StateHourTotals, type StateQuery } from '../../domain/analytics.js';
import type { ColumnType, Dialect, SqlReader, SqlWriter } from './dialect.js';

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

/** Adds deltas (merged by key) to their rollups' rows of `shard`: two statements per kind. */
export async function addRollups(tx: SqlWriter, d: Dialect, deltas: readonly HourDelta[], shard: number): Promise<void> {
  for (const kind of ['state', 'service'] as const) {
    const mine = deltas.filter((x) => x.kind === kind);
    if (mine.length === 0) continue;
    const { hours, bins, keys } = ROLLUPS[kind];
    const key = ['hour', ...keys, 'shard'].join(', ');
    const keyTypes: ColumnType[] = ['bigint', ...keys.map(() => 'text' as const), 'int'];
    const hourTypes: ColumnType[] = [...keyTypes, 'bigint', 'bigint', 'bigint', 'bigint', 'bigint'];
    const columns = (types: readonly ColumnType[]) => types.map((_, i) => `c${i}`).join(', ');
    // WHERE TRUE: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON
    await tx.run(
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

/** A delta's group value, as GROUP_COLUMN computes it in SQL (state keys: state type, service type, media type). */
const GROUP_OF: Record<keyof typeof GROUP_COLUMN, (d: HourDelta) => string | number> = {
  service_type: (d) => d.keys[1],
  media_type: (d) => d.keys[2],
  hour: (d) => d.hour,
  day: (d) => Math.floor(d.hour / 24),
};

/** The tail's rows: the deltas the fold has not added to the rows yet, a range of the events' key from the position (the plan test EXPLAINs this text). */
export const ROLLUP_TAIL = 'SELECT rollup FROM events WHERE event_id > (SELECT last_event_id FROM rollup_position WHERE one = 1) AND rollup IS NOT NULL';

/** The tail's deltas of `kind` in the window and of the types asked for (keys[0] and keys[1] by kind). */
function tailDeltas(rows: readonly { rollup: string | null }[], kind: RollupKind, q: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes' | 'stateTypes'>): HourDelta[] {
  const [stateTypes, serviceTypes] = [new Set(q.stateTypes), new Set(q.serviceTypes)];
  return rows.flatMap((r) =>
    r.rollup === null
      ? []
      : decodeDeltas(r.rollup).filter(
          (d) =>
            d.kind === kind &&
            d.hour >= q.fromHour &&
            d.hour < q.toHour &&
            (kind === 'service' ? serviceTypes.size === 0 || serviceTypes.has(d.keys[0]) : (stateTypes.size === 0 || stateTypes.has(d.keys[0])) && (serviceTypes.size === 0 || serviceTypes.has(d.keys[1]))),
        ),
  );
}

/** A report over one rollup: its window's rows summed per key, in the key columns `keys` (SQL, named k0, k1…). */
interface HourReport<K> {
  kind: RollupKind;
  query: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes' | 'stateTypes'>;
  keys: readonly string[];
  /** a row's key, from its k0, k1… */
  keyOfRow(row: Record<string, unknown>): K;
  /** a tail delta's key, as keys computes it in SQL */
  keyOfDelta(delta: HourDelta): K;
}

type ReportRow = Record<string, unknown> & { started: unknown; completed: unknown; removed: unknown; duration_sum: unknown; duration_max: unknown; bin: unknown; n: unknown; rollup: string | null };

/**
 * Sums a report's window in ONE statement (UNION ALL): the hour rows per key, the bin rows per key and
 * bin, and the tail — so all three are one snapshot (read apart, a fold or a write committing between
 * them would count its events twice, or once in the totals and not in the bins), and the tail is read
 * and decoded once.
 */
async function hourTotals<K>(read: SqlReader, d: Dialect, report: HourReport<K>): Promise<{ key: K; started: number; completed: number; removed: number; durationSum: number; durationMax: number; bins: [number, number][] }[]> {
  const { hours, bins } = ROLLUPS[report.kind];
  const { sql: where, params } = windowWhere(d, report.query);
  const keys = report.keys.map((k, i) => `${k} AS k${i}`).join(', ');
  const groupBy = report.keys.join(', ');
  const nulls = (n: number) => Array.from({ length: n }, () => 'NULL').join(', ');
  const rows = await read.all<ReportRow>(
    `SELECT ${keys}, SUM(started) AS started, SUM(completed) AS completed, SUM(removed) AS removed, SUM(duration_sum) AS duration_sum, MAX(duration_max) AS duration_max, NULL AS bin, NULL AS n, NULL AS rollup
     FROM ${hours} WHERE ${where} GROUP BY ${groupBy}
     UNION ALL SELECT ${keys}, ${nulls(5)}, bin, SUM(n), NULL FROM ${bins} WHERE ${where} GROUP BY ${groupBy}, bin
     UNION ALL SELECT ${nulls(report.keys.length + 7)}, ${ROLLUP_TAIL.slice('SELECT '.length)}`,
    [...params, ...params],
  );
  const totals = new Totals<K>();
  for (const r of rows) {
    if (r.rollup !== null) continue;
    if (r.bin === null) totals.add(report.keyOfRow(r), { started: Number(r.started), completed: Number(r.completed), removed: Number(r.removed), durationSum: Number(r.duration_sum), durationMax: Number(r.duration_max) });
    else totals.addBin(report.keyOfRow(r), Number(r.bin), Number(r.n));
  }
  for (const delta of tailDeltas(rows, report.kind, report.query)) {
    const key = report.keyOfDelta(delta);
    totals.add(key, delta);
    for (const [bin, n] of delta.bins) totals.addBin(key, bin, n);
  }
  return totals.list();
}

/** The report's window and types (a rollup row's hour, state type and service type). */
function windowWhere(d: Dialect, q: HourReport<unknown>['query']): { sql: string; params: unknown[] } {
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

/** Totals of one key being summed: the rows' sums, then the tail's deltas added. */
class Totals<K> {
  private readonly byKey = new Map<string, { key: K; started: number; completed: number; removed: number; durationSum: number; durationMax: number; bins: Map<number, number> }>();

  private entry(key: K) {
    const id = JSON.stringify(key);
    let entry = this.byKey.get(id);
    if (!entry) this.byKey.set(id, (entry = { key, started: 0, completed: 0, removed: 0, durationSum: 0, durationMax: 0, bins: new Map() }));
    return entry;
  }

  add(key: K, sums: { started: number; completed: number; removed: number; durationSum: number; durationMax: number }): void {
    const entry = this.entry(key);
    entry.started += sums.started;
    entry.completed += sums.completed;
    entry.removed += sums.removed;
    entry.durationSum += sums.durationSum;
    entry.durationMax = Math.max(entry.durationMax, sums.durationMax);
  }

  addBin(key: K, bin: number, n: number): void {
    const bins = this.entry(key).bins;
    bins.set(bin, (bins.get(bin) ?? 0) + n);
  }

  /** Each key's totals, its bins in bin order. */
  list() {
    return [...this.byKey.values()].map((e) => ({ ...e, bins: [...e.bins].sort((a, b) => a[0] - b[0]) }));
  }
}

/** The window's totals per state type (and group), with their duration bins. */
export async function stateHourTotals(read: SqlReader, d: Dialect, q: StateQuery): Promise<StateHourTotals[]> {
  const numeric = q.groupBy === 'hour' || q.groupBy === 'day';
  const group = q.groupBy;
  const totals = await hourTotals<[string, string | number | undefined]>(read, d, {
    kind: 'state',
    query: q,
    keys: group ? ['state_type', GROUP_COLUMN[group]] : ['state_type'],
    keyOfRow: (r) => [String(r.k0), r.k1 === undefined ? undefined : numeric ? Number(r.k1) : String(r.k1)],
    keyOfDelta: (delta) => [delta.keys[0], group ? GROUP_OF[group](delta) : undefined],
  });
  return totals.map(({ key: [stateType, group], ...rest }) => ({ stateType, group, ...rest }));
}

/** The window's services per service type and disposition ('' for open ones and none), with their duration bins. */
export async function serviceHourTotals(read: SqlReader, d: Dialect, q: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes'>): Promise<ServiceHourTotals[]> {
  const totals = await hourTotals<[string, string]>(read, d, {
    kind: 'service',
    query: { ...q, stateTypes: [] },
    keys: ['service_type', 'disposition'],
    keyOfRow: (r) => [String(r.k0), String(r.k1)],
    keyOfDelta: (delta) => [delta.keys[0], delta.keys[1]],
  });
  return totals.map(({ key: [serviceType, disposition], ...rest }) => ({ serviceType, disposition, ...rest }));
}

/** The fold's own rows in each rollup: it runs one at a time (it holds rollup_position), beside batches writing their slots' rows. */
const FOLD_SHARD = -1;

/**
 * Adds the deltas of the events after the fold's position (at most `limit` events) to the rollup rows,
 * and moves the position past them, in the caller's transaction. Events take their ids in commit
 * order, so no event at or below the last one read can still appear.
 */
export async function foldRollups(tx: SqlWriter, d: Dialect, limit?: number): Promise<{ folded: number; examined: number }> {
  const position = await tx.one<{ last_event_id: bigint | number | string }>(`SELECT last_event_id FROM rollup_position${d.forUpdate}`);
  if (!position) throw new Error('the rollup position is missing (the store is not migrated)');
  const events = await tx.all<{ event_id: bigint | number | string; rollup: string | null }>(
    `SELECT event_id, rollup FROM events WHERE event_id > ? ORDER BY event_id${limit === undefined ? '' : ' LIMIT ?'}`,
    [BigInt(position.last_event_id), ...(limit === undefined ? [] : [limit])],
  );
  if (events.length === 0) return { folded: 0, examined: 0 };
  const carrying = events.filter((e) => e.rollup !== null);
  if (carrying.length > 0) await addRollups(tx, d, mergeDeltas(carrying.flatMap((e) => decodeDeltas(e.rollup!))), FOLD_SHARD);
  await tx.run('UPDATE rollup_position SET last_event_id = ?', [BigInt(events[events.length - 1].event_id)]);
  return { folded: carrying.length, examined: events.length };
}
