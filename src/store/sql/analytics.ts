// Journey analytics (#17), written once for both stores. The live board: active services by service
// type and waiting states (open, in an active service) by state type, from the partial indexes of
// migration 009, which hold exactly those rows in (type, started_at) order: a group's count and oldest
// start are one index range, its median one step into it.
import type { SqlReader } from './dialect.js';


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
