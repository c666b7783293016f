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

/**
 * The deltas the fold has not added to the rows yet, as rows of a report's own statement (UNION ALL):
 * read in the same statement as the rows, so rows and tail are one snapshot — read apart, a fold
 * committing between them would count its events twice or not at all. `blanks` are the report's
 * other columns, NULL in these rows.
 */
function tail(blanks: number): string {
  return `UNION ALL SELECT ${Array.from({ length: blanks }, () => 'NULL').join(', ')}, ${ROLLUP_TAIL.slice('SELECT '.length)}`;
}

/** The tail's rows: a range of the events' key from the position (the plan test EXPLAINs this text). */
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

  /** Each key's totals, its bins in bin order; a key only the bins named (a write committed between a report's two statements) is left out. */
  list() {
    return [...this.byKey.values()].filter((e) => e.started + e.completed + e.removed > 0).map((e) => ({ ...e, bins: [...e.bins].sort((a, b) => a[0] - b[0]) }));
  }
}

type SumRow = { started: unknown; completed: unknown; removed: unknown; duration_sum: unknown; duration_max: unknown; rollup: string | null };
const sums = (r: SumRow) => ({ started: Number(r.started), completed: Number(r.completed), removed: Number(r.removed), durationSum: Number(r.duration_sum), durationMax: Number(r.duration_max) });

/** The window's totals per state type (and group), with their duration bins. */
export async function stateHourTotals(read: SqlReader, d: Dialect, q: StateQuery): Promise<StateHourTotals[]> {
  const { sql, params } = where(d, q);
  const group = q.groupBy ? `, ${GROUP_COLUMN[q.groupBy]} AS g` : '';
  const groupBy = q.groupBy ? `, ${GROUP_COLUMN[q.groupBy]}` : '';
  const numeric = q.groupBy === 'hour' || q.groupBy === 'day';
  const groupOf = (g: unknown) => (g === undefined || g === null ? undefined : numeric ? Number(g) : String(g));
  const keyOf = (d: HourDelta): [string, string | number | undefined] => [d.keys[0], q.groupBy ? GROUP_OF[q.groupBy](d) : undefined];
  const totals = new Totals<[string, string | number | undefined]>();
  const rows = await read.all<SumRow & { state_type: string; g?: string | number | bigint }>(
    `SELECT state_type${group}, SUM(started) AS started, SUM(completed) AS completed, SUM(removed) AS removed, SUM(duration_sum) AS duration_sum, MAX(duration_max) AS duration_max, NULL AS rollup
     FROM state_hours WHERE ${sql} GROUP BY state_type${groupBy} ${tail(q.groupBy ? 7 : 6)}`,
    params,
  );
  for (const r of rows) if (r.rollup === null) totals.add([r.state_type, groupOf(r.g)], sums(r));
  for (const delta of tailDeltas(rows, 'state', q)) totals.add(keyOf(delta), delta);
  const bins = await read.all<{ state_type: string; g?: string | number | bigint; bin: number; n: unknown; rollup: string | null }>(
    `SELECT state_type${group}, bin, SUM(n) AS n, NULL AS rollup FROM state_hour_bins WHERE ${sql} GROUP BY state_type${groupBy}, bin ${tail(q.groupBy ? 4 : 3)}`,
    params,
  );
  for (const b of bins) if (b.rollup === null) totals.addBin([b.state_type, groupOf(b.g)], Number(b.bin), Number(b.n));
  for (const delta of tailDeltas(bins, 'state', q)) for (const [bin, n] of delta.bins) totals.addBin(keyOf(delta), bin, n);
  return totals.list().map(({ key: [stateType, group], ...rest }) => ({ stateType, group, ...rest }));
}


/** The window's services per service type and disposition ('' for open ones and none), with their duration bins. */
export async function serviceHourTotals(read: SqlReader, d: Dialect, q: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes'>): Promise<ServiceHourTotals[]> {
  let where = 'hour >= ? AND hour < ?';
  const params: unknown[] = [q.fromHour, q.toHour];
  if (q.serviceTypes.length > 0) {
    where += ` AND ${d.inList('service_type', 'text')}`;
    params.push(d.list(q.serviceTypes));
  }
  const window = { ...q, stateTypes: [] };
  const totals = new Totals<[string, string]>();
  const rows = await read.all<SumRow & { service_type: string; disposition: string }>(
    `SELECT service_type, disposition, SUM(started) AS started, SUM(completed) AS completed, SUM(removed) AS removed, SUM(duration_sum) AS duration_sum, MAX(duration_max) AS duration_max, NULL AS rollup
     FROM service_hours WHERE ${where} GROUP BY service_type, disposition ${tail(7)}`,
    params,
  );
  for (const r of rows) if (r.rollup === null) totals.add([r.service_type, r.disposition], sums(r));
  for (const delta of tailDeltas(rows, 'service', window)) totals.add([delta.keys[0], delta.keys[1]], delta);
  const bins = await read.all<{ service_type: string; disposition: string; bin: number; n: unknown; rollup: string | null }>(
    `SELECT service_type, disposition, bin, SUM(n) AS n, NULL AS rollup FROM service_hour_bins WHERE ${where} GROUP BY service_type, disposition, bin ${tail(4)}`,
    params,
  );
  for (const b of bins) if (b.rollup === null) totals.addBin([b.service_type, b.disposition], Number(b.bin), Number(b.n));
  for (const delta of tailDeltas(bins, 'service', window)) for (const [bin, n] of delta.bins) totals.addBin([delta.keys[0], delta.keys[1]], bin, n);
  return totals.list().map(({ key: [serviceType, disposition], ...rest }) => ({ serviceType, disposition, ...rest }));
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
