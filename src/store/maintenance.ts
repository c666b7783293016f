// WHERE clauses of the maintenance queries, shared by the SQL stores (placeholders passed in).
import type { ExportFilter, PurgeOperation } from './store.js';

/** Services a purge operation removes: started before the cut-off, then by state and owner. */
export function purgeWhere(operation: PurgeOperation, before: string): string {
  let where = `started_at < ${before}`;
  if (operation.startsWith('purge.service.started')) where += ' AND completed_at IS NULL';
  if (operation.startsWith('purge.service.completed')) where += ' AND completed_at IS NOT NULL';
  if (operation.endsWith('.anonymous')) where += ' AND customer_id IS NULL';
  return where;
}

/**
 * Services an export includes: the chosen event inside [from, to), then the state filter. With
 * `any`, SQLite gets the range placeholders twice (positional `?`), PostgreSQL reuses `$2`/`$3`.
 */
export function exportWhere(filter: ExportFilter, [from, to]: [string, string]): string {
  const started = `(started_at >= ${from} AND started_at < ${to})`;
  const completed = `(completed_at >= ${from} AND completed_at < ${to})`;
  let where = filter.events === 'started' ? started : filter.events === 'completed' ? completed : `(${started} OR ${completed})`;
  if (filter.state === 'active') where += ' AND completed_at IS NULL';
  if (filter.state === 'inactive') where += ' AND completed_at IS NOT NULL';
  return where;
}
