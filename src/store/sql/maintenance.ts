// Purges, exports, the expiry sweep, auto-complete and customer erasure, written once for both stores.
import { autoCompletion } from '../../domain/expiration.js';
import { completeDoc, type ElementDoc } from '../../domain/lifecycle.js';
import type { ServiceRecord } from '../../domain/records.js';
import { decodeDoc, serviceFromRow, type ServiceRow } from '../codec.js';
import type { AuditRecord, ExportFilter, PurgeOperation } from '../store.js';
import { insertAudit } from './audit.js';
import { serviceCompleted, stateCompleted } from '../../domain/analytics.js';
import { typeKey } from '../../domain/fields.js';
import { foldRollups, openRemovals } from './rollups.js';
import type { HourDelta } from '../../domain/analytics.js';
import type { Dialect, SqlReader, SqlWriter } from './dialect.js';
import { docParams, EXPIRES_AT, LIVE, SERVICE_COLUMNS, setDoc } from './services.js';
import type { Write } from './write.js';

/** SQL: the services a purge operation removes: started before the cut-off (`?`), then by state and owner. */
export function purgeWhere(operation: PurgeOperation): string {
  let where = 'started_at < ?';
  if (operation.startsWith('purge.service.started')) where += ' AND completed_at IS NULL';
  if (operation.startsWith('purge.service.completed')) where += ' AND completed_at IS NOT NULL';
  if (operation.endsWith('.anonymous')) where += ' AND customer_id IS NULL';
  return where;
}

interface Doomed {
  ids: bigint[];
  /** what their deletion removes from the rollups */
  removed: HourDelta[];
}

/** While planning: the services `select` finds (ids, `params`), held for the write, and what deleting them removes from the rollups. */
async function planDeletion(read: SqlReader, d: Dialect, select: string, params: readonly unknown[]): Promise<Doomed> {
  return doomed(read, d, (await read.all<{ service_id: bigint | number | string }>(select, params)).map((r) => BigInt(r.service_id)));
}

/** The services `ids`, and what deleting them removes from the rollups. */
async function doomed(read: SqlReader, d: Dialect, ids: bigint[]): Promise<Doomed> {
  return { ids, removed: ids.length === 0 ? [] : await openRemovals(read, d.inList('v.service_id', 'bigint'), [d.list(ids)]) };
}

/** Deletes the planned services with everything in them; returns how many. */
async function applyDeletion(tx: SqlWriter, d: Dialect, { ids }: Doomed): Promise<number> {
  return ids.length === 0 ? 0 : tx.run(`DELETE FROM services WHERE ${d.inList('service_id', 'bigint')}`, [d.list(ids)]);
}

/** One bounded batch of a purge (requests keep flowing between batches); returns how many it deleted. */
export function purgeBatch(d: Dialect, operation: PurgeOperation, before: number, batchSize: number): Write<number, Doomed> {
  return {
    plan: (read) => planDeletion(read, d, `SELECT service_id FROM services WHERE ${purgeWhere(operation)} ORDER BY service_id LIMIT ?${d.skipLocked}`, [before, batchSize]),
    apply: (tx, doomed) => applyDeletion(tx, d, doomed),
    events: (purged) => (purged > 0 ? [{ kind: 'maintenance.purged', details: { purged } }] : []),
    rollups: (_purged, doomed) => doomed.removed,
  };
}

/** How many services a purge operation would delete now. */
export async function countPurgeable(read: SqlReader, operation: PurgeOperation, before: number): Promise<number> {
  return Number((await read.one<{ n: unknown }>(`SELECT count(*) AS n FROM services WHERE ${purgeWhere(operation)}`, [before]))?.n ?? 0);
}

/** SQL and parameters: the services an export includes, the chosen event inside [from, to), then the state filter. */
function exportWhere(filter: ExportFilter): { where: string; params: unknown[] } {
  const started = '(started_at >= ? AND started_at < ?)';
  const completed = '(completed_at >= ? AND completed_at < ?)';
  const range = [filter.from, filter.to];
  let where = filter.events === 'started' ? started : filter.events === 'completed' ? completed : `(${started} OR ${completed})`;
  const params = filter.events === 'any' ? [...range, ...range] : range;
  if (filter.state === 'active') where += ' AND completed_at IS NULL';
  if (filter.state === 'inactive') where += ' AND completed_at IS NOT NULL';
  return { where, params };
}

/** One page of matching services after `afterId`, by id: the export walks them in constant memory. */
export async function exportPage(read: SqlReader, filter: ExportFilter, afterId: bigint, pageSize: number, now: number): Promise<ServiceRecord[]> {
  const { where, params } = exportWhere(filter);
  const rows = await read.all<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE service_id > ? AND ${LIVE} AND ${where} ORDER BY service_id LIMIT ?`, [
    afterId,
    now,
    ...params,
    pageSize,
  ]);
  return rows.map(serviceFromRow);
}

/** A sweep batch: the expired services to delete, and those found early whose expiry moves up (EXPIRES_AT). */
interface Sweep extends Doomed {
  rearmed: bigint[];
}

/**
 * One batch of the expiry sweep. Its index (services_by_expiry) holds an early bound for an expiry
 * re-armed by writes since: such a service is not deleted, its bound moves up to its expiry now, so
 * the next batch reads on past it. Answers how many expired and how many services it looked at.
 */
export function sweepExpired(d: Dialect, batchSize: number): Write<{ expired: number; examined: number }, Sweep> {
  return {
    plan: async (read, now) => {
      const due = await read.all<{ service_id: bigint | number | string; expires: unknown }>(
        `SELECT service_id, ${EXPIRES_AT} AS expires FROM services WHERE expires_at <= ? ORDER BY expires_at LIMIT ?${d.skipLocked}`,
        [now, batchSize],
      );
      const expired = due.filter((r) => Number(r.expires) <= now).map((r) => BigInt(r.service_id));
      const rearmed = due.filter((r) => Number(r.expires) > now).map((r) => BigInt(r.service_id));
      return { ...(await doomed(read, d, expired)), rearmed };
    },
    apply: async (tx, sweep) => {
      if (sweep.rearmed.length > 0) await tx.run(`UPDATE services SET expires_at = ${EXPIRES_AT} WHERE ${d.inList('service_id', 'bigint')}`, [d.list(sweep.rearmed)]);
      return { expired: await applyDeletion(tx, d, sweep), examined: sweep.ids.length + sweep.rearmed.length };
    },
    events: ({ expired }) => (expired > 0 ? [{ kind: 'maintenance.expired', details: { purged: expired } }] : []),
    rollups: (_swept, sweep) => sweep.removed,
  };
}

interface Completion {
  serviceId: bigint;
  doc: ElementDoc;
  serviceType?: string;
  /** the outcome rollups count the service (migration 010) */
  counted: boolean;
  /** the service's open states and tasks, completed (`counted`: a state the time-in-state rollups count) */
  elements: { kind: 'state' | 'task'; id: number; doc: ElementDoc; counted: boolean }[];
}

/** Completes active services idle for their auto_complete_after (or `defaultAfterMs`), with their open states and tasks. */
export function autoCompleteIdle(d: Dialect, defaultAfterMs: number | undefined, batchSize: number): Write<number, Completion[]> {
  return {
    plan: async (read, now) => {
      const end = autoCompletion(now);
      const idle = await read.all<{ service_id: bigint; doc: string; counted: boolean | number }>(
        `SELECT service_id, doc, counted FROM services WHERE completed_at IS NULL AND ${LIVE}
           AND updated_at + COALESCE(auto_complete_after_ms, CAST(? AS BIGINT)) <= ? ORDER BY service_id LIMIT ?${d.skipLocked}`,
        [now, defaultAfterMs ?? null, now, batchSize],
      );
      const completions: Completion[] = [];
      for (const { service_id: serviceId, doc, counted } of idle) {
        const elements: Completion['elements'] = [];
        for (const kind of ['state', 'task'] as const) {
          const open = await read.all<{ id: number | bigint; doc: string; counted?: boolean | number }>(
            `SELECT ${kind}_id AS id, doc${kind === 'state' ? ', counted' : ''} FROM ${kind}s WHERE service_id = ? AND completed_at IS NULL${d.forUpdate}`,
            [serviceId],
          );
          for (const element of open) elements.push({ kind, id: Number(element.id), doc: completeDoc(kind, element.id, decodeDoc(element.doc), end), counted: Boolean(element.counted) });
        }
        const serviceDoc = decodeDoc(doc);
        completions.push({ serviceId, serviceType: typeKey(serviceDoc.type) ?? undefined, counted: Boolean(counted), doc: completeDoc('service', serviceId, serviceDoc, end), elements });
      }
      return completions;
    },
    apply: async (tx, completions, now) => {
      for (const { serviceId, doc, elements } of completions) {
        // the completion is a write: it re-arms the expiry (updated_at), in the same statement
        await tx.run(`UPDATE services SET ${setDoc('service_type')}, updated_at = ? WHERE service_id = ?`, [...docParams(doc), now, serviceId]);
        for (const element of elements) await tx.run(`UPDATE ${element.kind}s SET ${setDoc(`${element.kind}_type`)} WHERE ${element.kind}_id = ?`, [...docParams(element.doc), element.id]);
      }
      return completions.length;
    },
    events: (completed) => (completed > 0 ? [{ kind: 'maintenance.auto-completed', details: { purged: completed } }] : []),
    rollups: (_completed, completions) =>
      completions.flatMap((c) => [
        ...(c.counted ? [serviceCompleted(c.doc)] : []),
        ...c.elements.filter((e) => e.kind === 'state' && e.counted).map((e) => stateCompleted(e.doc, c.serviceType)),
      ]),
  };
}

/** Erases the profile and every service (with states, tasks, extensions) of a customer, with its audit record, in one transaction. */
export function eraseCustomer(d: Dialect, customerId: string, audit: Omit<AuditRecord, 'counts'>): Write<{ profile: number; services: number }, HourDelta[]> {
  return {
    plan: (read) => openRemovals(read, 'v.customer_id = ?', [customerId]),
    apply: async (tx) => {
      const profile = await tx.run('DELETE FROM profiles WHERE customer_id = ?', [customerId]);
      const services = await tx.run('DELETE FROM services WHERE customer_id = ?', [customerId]);
      // the outbox forgets the customer too: what stays is the notice that they were erased. Their
      // events' rollup deltas are added to the rows first, or the reports would lose them
      await foldRollups(tx, d);
      await tx.run('DELETE FROM events WHERE customer_id = ?', [customerId]);
      const counts = { profile, services };
      await insertAudit(tx, { ...audit, counts });
      return counts;
    },
    events: (counts) => [{ kind: 'customer.erased', customerId, details: { purged: counts.services } }],
    rollups: (_counts, removed) => removed,
  };
}
