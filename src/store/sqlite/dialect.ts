// SQLite's spelling of what differs (src/store/sql/dialect.ts): lists and row sets travel as one
// JSON parameter read with json_each; a write locks the whole file (BEGIN IMMEDIATE), so no row
// locks; service ids come from AUTOINCREMENT's sqlite_sequence.
import { ID_COLUMNS, type ColumnType, type Dialect, type IdTable, type SqlWriter } from '../sql/dialect.js';

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
  async allocateIds(tx: SqlWriter, table: IdTable, n: number): Promise<bigint[]> {
    // AUTOINCREMENT never reuses an id: the sequence moves past both itself and the largest id. The
    // services' row is made at open (at the partition's base); the others' at their first id.
    if (table !== 'services') await tx.run('INSERT INTO sqlite_sequence (name, seq) SELECT ?, 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)', [table, table]);
    const row = await tx.one<{ seq: bigint }>(
      `UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(${ID_COLUMNS[table]}), 0) FROM ${table})) + ? WHERE name = ? RETURNING seq`,
      // a bigint: better-sqlite3 binds a JS number as a REAL, and REAL arithmetic rounds above 2^53
      [BigInt(n), table],
    );
    if (!row) throw new Error(`the ${table} sequence is missing (the store is not migrated)`);
    const last = BigInt(row.seq);
    return Array.from({ length: n }, (_, i) => last - BigInt(n - 1 - i));
  },
  async advanceIds(tx: SqlWriter, table: IdTable, maxId: bigint): Promise<void> {
    await tx.run('INSERT INTO sqlite_sequence (name, seq) SELECT ?, 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)', [table, table]);
    await tx.run('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?', [maxId, table]);
  },
};
