// SQLite's spelling of what differs (src/store/sql/dialect.ts): lists and row sets travel as one
// JSON parameter read with json_each; a write locks the whole file (BEGIN IMMEDIATE), so no row
// locks; service ids come from AUTOINCREMENT's sqlite_sequence.
import { ID_COLUMNS, type ColumnType, type Dialect, type IdTable, type SqlWriter } from '../sql/dialect.js';

function jsonValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Rows as one JSON array. JSON.stringify has no bigints, so a bigint cell that a number holds exactly
 * becomes that number and the whole set is serialized at once (a bulk write's rows, much faster than
 * cell by cell); a row with a larger bigint is written cell by cell.
 */
function rowsJson(rows: readonly (readonly unknown[])[]): string {
  const parts: string[] = [];
  let plain: unknown[][] = [];
  for (const row of rows) {
    let copy: unknown[] | undefined;
    let exact = true;
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (typeof v === 'bigint') {
        if (v > SAFE || v < -SAFE) {
          exact = false;
          break;
        }
        (copy ??= [...row])[i] = Number(v);
      } else if (v === undefined) (copy ??= [...row])[i] = null;
    }
    if (exact) plain.push(copy ?? (row as unknown[]));
    else {
      if (plain.length > 0) parts.push(JSON.stringify(plain).slice(1, -1));
      plain = [];
      parts.push(`[${row.map(jsonValue).join(',')}]`);
    }
  }
  if (plain.length > 0) parts.push(JSON.stringify(plain).slice(1, -1));
  return `[${parts.join(',')}]`;
}

export const sqliteDialect: Dialect = {
  kind: 'sqlite',
  inList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  list: (values) => `[${values.map(jsonValue).join(',')}]`,
  rows: (types) => `(SELECT ${types.map((_, i) => `json_extract(value, '$[${i}]') AS c${i}`).join(', ')} FROM json_each(?))`,
  rowParams: (_types: readonly ColumnType[], rows) => [rowsJson(rows)],
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
