// PostgreSQL's spelling of what differs (src/store/sql/dialect.ts): lists and row sets travel as
// typed arrays (= ANY, unnest); writes hold the rows they read (FOR UPDATE) and maintenance skips
// rows a request holds; service ids come from the column's sequence.
import type { ColumnType, Dialect, SqlWriter } from '../sql/dialect.js';

/** bigints travel as text (pg never puts them through a float) */
const param = (value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

export const postgresDialect: Dialect = {
  kind: 'postgres',
  inList: (column, type) => `${column} = ANY(CAST(? AS ${type}[]))`,
  list: (values) => values.map(param),
  rows: (types) => `unnest(${types.map((type) => `CAST(? AS ${type}[])`).join(', ')}) AS x(${types.map((_, i) => `c${i}`).join(', ')})`,
  rowParams: (types: readonly ColumnType[], rows) => types.map((_, i) => rows.map((row) => param(row[i] ?? null))),
  writableWith: true,
  forUpdate: ' FOR UPDATE',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  lockTable: (table, mode) => `LOCK TABLE ${table} IN ${mode} MODE`,
  async allocateServiceIds(tx: SqlWriter, n: number): Promise<bigint[]> {
    const rows = await tx.all<{ id: bigint }>("SELECT nextval(pg_get_serial_sequence('services', 'service_id')) AS id FROM generate_series(1, CAST(? AS int))", [n]);
    return rows.map((r) => r.id);
  },
};
