// WHERE clauses of the maintenance queries, shared by the SQL stores (placeholders passed in).
import { DEFAULT_EXPIRATION, parseLifetime, type Expiry } from '../domain/expiration.js';
import type { ElementEnd, ServiceStart } from '../domain/records.js';
import { formatTimestamp } from '../domain/fields.js';
import type { ExportFilter, PurgeOperation } from './store.js';

/** SQL: a service's expiry after a write at `now` (a placeholder): fixed ones keep theirs, others re-arm. */
export function rearm(now: string): string {
  return `CASE WHEN expires_fixed THEN expires_at ELSE ${now} + lifetime_ms END`;
}

export const DEFAULT_LIFETIME_MS = parseLifetime('expiration', DEFAULT_EXPIRATION);

/** The expiry columns of a new service. */
export function expiryOnInsert(expiry: Expiry | undefined, now: number): { lifetimeMs: number; fixed: boolean; expiresAt: number } {
  const lifetimeMs = expiry?.lifetimeMs ?? DEFAULT_LIFETIME_MS;
  const fixedAt = expiry?.fixedAt;
  return { lifetimeMs, fixed: fixedAt !== undefined, expiresAt: fixedAt ?? now + lifetimeMs };
}

export function autoCompleteAfterMs(start: ServiceStart): number | null {
  const seconds = start.started.auto_complete_after;
  return seconds === undefined ? null : seconds * 1000;
}

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

/** The end event an auto-completion writes: the time it happened, nothing else. */
export function autoCompletion(now: number): ElementEnd {
  return { completed: { timestamp: formatTimestamp(now) }, completedAt: now, extensions: new Map(), automatic: true };
}
