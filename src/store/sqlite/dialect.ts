// SQLite's spelling of what differs (src/store/sql/dialect.ts): lists and row sets travel as one
// JSON parameter read with json_each; a write locks the whole file (BEGIN IMMEDIATE), so no row
// locks; service ids come from AUTOINCREMENT's sqlite_sequence.
import type { ColumnType, Dialect, SqlWriter } from '../sql/dialect.js';

function jsonValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export const sqliteDialect: Dialect = {
  kind: 'sqlite',
  inList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  list: (values) => `[${values.map(jsonValue).join(',')}]`,
  rows: (types) => `(SELECT ${types.map((_, i) => `json_extract(value, '$[${i}]') AS c${i}`).join(', ')} FROM json_each(?))`,
  rowParams: (_types: readonly ColumnType[], rows) => [`[${rows.map((row) => `[${row.map(jsonValue).join(',')}]`).join(',')}]`],
  writableWith: false,
  forUpdate: '',
  skipLocked: '',
  lockTable: () => undefined,
  async allocateServiceIds(tx: SqlWriter, n: number): Promise<bigint[]> {
    // AUTOINCREMENT never reuses an id: the sequence moves past both itself and the largest id
    const row = await tx.one<{ seq: bigint }>(
      "UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(service_id), 0) FROM services)) + ? WHERE name = 'services' RETURNING seq",
      // a bigint: better-sqlite3 binds a JS number as a REAL, and REAL arithmetic rounds above 2^53
      [BigInt(n)],
    );
    if (!row) throw new Error('the services sequence is missing (the store is not migrated)');
    const last = BigInt(row.seq);
    return Array.from({ length: n }, (_, i) => last - BigInt(n - 1 - i));
  },
};
