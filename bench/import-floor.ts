// SQLite's floor for an import: the rows a `contextd import` wrote (its services, states, tasks,
// extensions, indexed values and ledger, read back from its database), inserted again into a fresh
// migrated database by prepared single-row statements in transactions of IMPORT_BATCH services,
// with the store's durability (WAL, synchronous=FULL) and nothing else: no reading, no checking, no
// documents to build. What contextd's import adds to SQLite's own work is the gap to this.
import Database from 'better-sqlite3';
import { IMPORT_BATCH } from '../src/app/import.js';

/** the tables an import writes, each with the column that names its service */
const TABLES = [
  ['services', 'service_id'],
  ['imported_services', 'service_id'],
  ['states', 'service_id'],
  ['tasks', 'service_id'],
  ['extensions', 'service_id'],
  ['extension_values', 'service_id'],
] as const;

/** Services a second SQLite inserts the rows of `written` (an import's database) at, into `empty` (migrated, empty). */
export function sqliteInsertFloor(written: string, empty: string): number {
  const source = new Database(written, { readonly: true });
  source.defaultSafeIntegers(true);
  // each service's rows, per table, in service order
  const byService = new Map<bigint, Record<string, unknown>[][]>();
  const columns: Record<string, string[]> = {};
  for (const [t, [table, serviceColumn]] of TABLES.entries()) {
    for (const row of source.prepare(`SELECT * FROM ${table} ORDER BY ${serviceColumn}`).iterate() as Iterable<Record<string, unknown>>) {
      columns[table] ??= Object.keys(row);
      const id = row[serviceColumn] as bigint;
      let rows = byService.get(id);
      if (!rows) byService.set(id, (rows = TABLES.map(() => [])));
      rows[t].push(row);
    }
  }
  source.close();

  const db = new Database(empty);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const inserts = TABLES.map(([table]) => (columns[table] ? db.prepare(`INSERT INTO ${table} (${columns[table].join(', ')}) VALUES (${columns[table].map(() => '?').join(', ')})`) : undefined));
  const services = [...byService.values()];
  const began = performance.now();
  for (let first = 0; first < services.length; first += IMPORT_BATCH) {
    db.transaction(() => {
      for (const rows of services.slice(first, first + IMPORT_BATCH)) {
        for (const [t, tableRows] of rows.entries()) for (const row of tableRows) inserts[t]!.run(Object.values(row));
      }
    }).immediate();
  }
  const seconds = (performance.now() - began) / 1000;
  db.close();
  return services.length / seconds;
}
