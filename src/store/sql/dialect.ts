// The SQL of every table is written once (the other files of src/store/sql/), with `?` placeholders,
// against these two small interfaces; a Dialect supplies the few fragments SQLite and PostgreSQL
// spell differently. The drivers (src/store/sqlite/, src/store/postgres/) implement them.

export interface SqlReader {
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  one<R>(sql: string, params?: readonly unknown[]): Promise<R | undefined>;
}

export interface SqlWriter extends SqlReader {
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export type ColumnType = 'bigint' | 'int' | 'text' | 'boolean' | 'numeric';

export interface Dialect {
  readonly kind: 'sqlite' | 'postgres';
  /** `column IN (…)` over one list parameter (see `list`) */
  inList(column: string, type: ColumnType): string;
  /** the parameter of `inList` */
  list(values: readonly (string | number | bigint)[]): unknown;
  /** A table of rows passed as parameters, its columns named c0, c1, …, for `FROM ${rows(types)}`. */
  rows(types: readonly ColumnType[]): string;
  /** the parameters of `rows(types)` */
  rowParams(types: readonly ColumnType[], rows: readonly (readonly unknown[])[]): unknown[];
  /** appended to a SELECT inside a write: holds its rows until commit ('' where a write locks the whole store) */
  readonly forUpdate: string;
  /** the same, skipping rows another transaction holds (maintenance batches never wait for requests) */
  readonly skipLocked: string;
  /** A statement that takes a table lock for the rest of the transaction; none where a write locks the whole store. */
  lockTable(table: string, mode: 'SHARE ROW EXCLUSIVE' | 'ROW EXCLUSIVE'): string | undefined;
  /** whether a WITH clause may hold an UPDATE … RETURNING for the statement after it (PostgreSQL's data-modifying WITH; SQLite has none) */
  readonly writableWith: boolean;
  /** `n` new ids of a table, ascending, never handed out before. */
  allocateIds(tx: SqlWriter, table: IdTable, n: number): Promise<bigint[]>;
  /** Moves a table's id sequence to at least `maxId` (ids a bulk import keeps), so no later id is one of them. */
  advanceIds(tx: SqlWriter, table: IdTable, maxId: bigint): Promise<void>;
}

/** The tables whose ids come from a sequence, and their id columns. */
export const ID_COLUMNS = { services: 'service_id', states: 'state_id', tasks: 'task_id' } as const;
export type IdTable = keyof typeof ID_COLUMNS;
