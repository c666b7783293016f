// PostgreSQL's spelling of what differs (src/store/sql/dialect.ts): lists and row sets travel as
// typed arrays (= ANY, unnest); writes hold the rows they read (FOR UPDATE) and maintenance skips
// rows a request holds; service ids come from the column's sequence.
import { ID_COLUMNS, type ColumnType, type Dialect, type IdTable, type SqlWriter } from '../sql/dialect.js';

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
  async allocateIds(tx: SqlWriter, table: IdTable, n: number): Promise<bigint[]> {
    const rows = await tx.all<{ id: bigint }>(`SELECT nextval(pg_get_serial_sequence('${table}', '${ID_COLUMNS[table]}')) AS id FROM generate_series(1, CAST(? AS int))`, [n]);
    return rows.map((r) => BigInt(r.id));
  },
  async advanceIds(tx: SqlWriter, table: IdTable, maxId: bigint): Promise<void> {
    // setval takes effect at once, outside the transaction: requests allocating meanwhile get later ids
    const sequence = `pg_get_serial_sequence('${table}', '${ID_COLUMNS[table]}')`;
    await tx.all(`SELECT setval(${sequence}, GREATEST(CAST(? AS bigint), COALESCE(pg_sequence_last_value(CAST(${sequence} AS regclass)), 0)))`, [maxId]);
  },
};
