// Journey analytics (#17), written once for both stores. The live board: active services by service
// type and waiting states (open, in an active service) by state type, from the partial indexes of
// migration 009, which hold exactly those rows in (type, started_at) order: a group's count and oldest
// start are one index range, its median one step into it.
import type { FunnelService } from '../../domain/analytics.js';
import type { Dialect, SqlReader } from './dialect.js';


const LIVE = {
  services: { column: 'service_type', where: 'completed_at IS NULL' },
  states: { column: 'state_type', where: 'completed_at IS NULL AND in_active_service' },
} as const;

/** The live counts' query, as production runs it (the plan tests EXPLAIN this text). */
export function liveCountsSql(table: keyof typeof LIVE): string {
  const { column, where } = LIVE[table];
  return `SELECT ${column} AS type, COUNT(*) AS n, MIN(started_at) AS oldest FROM ${table} WHERE ${where} GROUP BY ${column}`;
}

/** The median's query for one stored type. */
export function liveMedianSql(table: keyof typeof LIVE, conditions: readonly string[]): string {
  const { where } = LIVE[table];
  return `SELECT started_at FROM ${table} WHERE ${where} AND (${conditions.join(' OR ')}) ORDER BY started_at LIMIT ? OFFSET ?`;
}

/** Each type's count and oldest start, largest first. */
export async function liveCounts(read: SqlReader, table: keyof typeof LIVE): Promise<{ type: string | null; count: number; oldest: number }[]> {
  const rows = await read.all<{ type: string | null; n: number | bigint | string; oldest: number | bigint | string }>(liveCountsSql(table));
  return rows.map((r) => ({ type: r.type, count: Number(r.n), oldest: Number(r.oldest) })).sort((a, b) => b.count - a.count || String(a.type).localeCompare(String(b.type)));
}

/** The median start of the rows of these types (which together count `count`). */
export async function liveMedian(read: SqlReader, table: keyof typeof LIVE, types: readonly (string | null)[], count: number): Promise<number> {
  const { column } = LIVE[table];
  const named = types.filter((t): t is string => t !== null);
  const conditions = [...named.map(() => `${column} = ?`), ...(types.includes(null) ? [`${column} IS NULL`] : [])];
  const rows = await read.all<{ started_at: number | bigint | string }>(
    liveMedianSql(table, conditions),
    [...named, count % 2 === 0 ? 2 : 1, Math.floor((count - 1) / 2)],
  );
  const middle = rows.map((r) => Number(r.started_at));
  return middle.length === 2 ? (middle[0] + middle[1]) / 2 : middle[0];
}


/** One page of the services of `serviceType` started in [from, to), after (`afterStart`, `afterId`), with their states. */
export async function funnelPage(read: SqlReader, d: Dialect, serviceTypes: readonly string[], from: number, to: number, after: { startedAt: number; id: bigint } | undefined, limit: number): Promise<FunnelService[]> {
  const params: unknown[] = [d.list(serviceTypes), from, to];
  let sql = `SELECT service_id, started_at, completed_at, doc FROM services WHERE ${d.inList('service_type', 'text')} AND started_at >= ? AND started_at < ?`;
  if (after) {
    sql += ' AND (started_at > ? OR (started_at = ? AND service_id > ?))';
    params.push(after.startedAt, after.startedAt, after.id);
  }
  sql += ' ORDER BY started_at, service_id LIMIT ?';
  params.push(limit);
  const rows = await read.all<{ service_id: bigint | number | string; started_at: unknown; completed_at: unknown; doc: string }>(sql, params);
  if (rows.length === 0) return [];
  const ids = rows.map((r) => BigInt(r.service_id));
  const states = await read.all<{ service_id: bigint | number | string; state_type: string | null; started_at: unknown }>(
    `SELECT service_id, state_type, started_at FROM states WHERE ${d.inList('service_id', 'bigint')} ORDER BY service_id, started_at, state_id`,
    [d.list(ids)],
  );
  const byService = new Map<string, { type: string; startedAt: number }[]>();
  for (const s of states) {
    const key = String(s.service_id);
    const list = byService.get(key) ?? [];
    list.push({ type: s.state_type ?? '', startedAt: Number(s.started_at) });
    byService.set(key, list);
  }
  return rows.map((r) => {
    const disposition = (JSON.parse(r.doc) as { disposition?: unknown }).disposition;
    return {
      serviceId: BigInt(r.service_id),
      startedAt: Number(r.started_at),
      completed: r.completed_at !== null,
      disposition: r.completed_at !== null && disposition !== undefined && disposition !== null ? String(disposition) : undefined,
      states: byService.get(String(r.service_id)) ?? [],
    };
  });
}
