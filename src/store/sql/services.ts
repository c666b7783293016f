// The services table, written once for both stores.
import { notFound } from '../../domain/errors.js';
import { typeKey } from '../../domain/fields.js';
import { autoCompleteAfterMs, expiryOnInsert, type Expiry } from '../../domain/expiration.js';
import { associateDoc, completeDoc, type ElementDoc } from '../../domain/lifecycle.js';
import type { ElementEnd, ElementStatus, ServiceAssociation, ServiceRecord, ServiceStart } from '../../domain/records.js';
import { decodeDoc, docColumns, docOf, serviceFromRow, type ServiceRow } from '../codec.js';
import type { Position, ServiceFilter, ServiceSearch } from '../store.js';
import type { ColumnType, Dialect, SqlReader, SqlWriter } from './dialect.js';
import { extensionValueWhere, extensionWrites, writeExtensions } from './extensions.js';
import { openRemovals } from './rollups.js';
import { serviceCompleted, serviceStarted, type HourDelta } from '../../domain/analytics.js';
import type { Write } from './write.js';

/**
 * SQL: when a service expires. A fixed expiry (expiration_time) is expires_at; any other is re-armed
 * by each write, so it is the last write (updated_at) plus the lifetime. A write sets only updated_at:
 * expires_at, which the sweep's index holds, is then an early bound the sweep moves up when it
 * reaches it (sweepExpired). A write that changed an indexed column would make PostgreSQL write a
 * new entry in every index of the row (no HOT update): re-arming expires_at on each state or task
 * start did (#17: state starts on PostgreSQL are 7 % faster without it).
 */
export const EXPIRES_AT = '(CASE WHEN expires_fixed THEN expires_at ELSE updated_at + lifetime_ms END)';
/** SQL: the service has not expired at `?` (expired services are gone for every read at once, swept or not) */
export const LIVE = `${EXPIRES_AT} > ?`;

export const SERVICE_COLUMNS = `service_id, customer_id, contact_key, started_at, completed_at, ${EXPIRES_AT} AS expires_at, doc`;

/**
 * SQL: an UPDATE of an element's doc and the columns derived from it (docColumns). An element's start
 * time never changes after its insert (no write patches started.timestamp), so started_at — and the
 * indexes it is part of — is left alone.
 */
export function setDoc(typeColumn: string): string {
  return `doc = ?, completed_at = ?, ${typeColumn} = ?`;
}

export function docParams(doc: ElementDoc): unknown[] {
  const c = docColumns(doc);
  return [c.doc, c.completedAt, c.type];
}

/** SQL: the condition of an active / completed / all list. */
export function statusClause(status: ElementStatus): string {
  if (status === 'active') return ' AND completed_at IS NULL';
  if (status === 'completed') return ' AND completed_at IS NOT NULL';
  return '';
}

/** SQL: LIMIT/OFFSET as bound parameters (pushed onto `params`): one statement per query shape, whatever the page. */
export function pageClause(params: unknown[], limit: number | undefined, offset: number | undefined): string {
  if (limit === undefined && !offset) return '';
  params.push(limit ?? Number.MAX_SAFE_INTEGER, offset ?? 0);
  return ' LIMIT ? OFFSET ?';
}

/** SQL: the rows after a cursor's position in (started_at, id) order. */
export function afterClause(idColumn: string, after: Position | undefined, params: unknown[]): string {
  if (!after) return '';
  params.push(after.startedAt, after.startedAt, after.id);
  return ` AND (started_at > ? OR (started_at = ? AND ${idColumn} > ?))`;
}

/** The query of a customer's services, as production runs it (the index tests EXPLAIN this text). */
export const CUSTOMER_SERVICES = `SELECT ${SERVICE_COLUMNS} FROM services WHERE customer_id = ?`;
/** The query of a contact key's anonymous services. */
export const ANONYMOUS_SERVICES = `SELECT ${SERVICE_COLUMNS} FROM services WHERE contact_key = ? AND customer_id IS NULL`;
const ORDER = ' ORDER BY started_at, service_id';

const SERVICE_ROW_TYPES: ColumnType[] = ['bigint', 'text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'boolean', 'bigint', 'bigint', 'text', 'bigint'];

/** Inserts services with their extensions in three statements, however many: ids first (each start gets its own), then two set-based inserts. */
export async function insertServices(tx: SqlWriter, d: Dialect, starts: readonly ServiceStart[], now: number): Promise<bigint[]> {
  const ids = await d.allocateIds(tx, 'services', starts.length);
  const rows = starts.map((start, i) => {
    const c = docColumns(docOf({ ...start, type: start.serviceType }));
    const expiry = expiryOnInsert(start.expiry, now);
    return [ids[i], start.customerId ?? null, start.contactKey ?? null, c.type, c.startedAt, expiry.expiresAt, expiry.lifetimeMs, expiry.fixed, autoCompleteAfterMs(start), now, c.doc, c.completedAt];
  });
  await tx.run(
    `INSERT INTO services (service_id, customer_id, contact_key, service_type, started_at, expires_at, lifetime_ms, expires_fixed, auto_complete_after_ms, updated_at, doc, completed_at, counted)
     SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, TRUE FROM ${d.rows(SERVICE_ROW_TYPES)}`,
    d.rowParams(SERVICE_ROW_TYPES, rows),
  );
  await writeExtensions(tx, d, starts.flatMap((start, i) => extensionWrites('service', ids[i], ids[i], start.extensions)), true);
  return ids;
}

/** Who a service belongs to when a write is planned: what its events name (EventDraft). */
export interface Owner {
  customerId?: string;
  contactKey?: string;
  /** the text form of its service_type (webhooks filter on it) */
  serviceType?: string;
}

type OwnerRow = { customer_id: string | null; contact_key: string | null; service_type: string | null };
type DocRow = OwnerRow & { doc: string; counted: boolean | number };

function ownerOf(row: OwnerRow): Owner {
  return { customerId: row.customer_id ?? undefined, contactKey: row.contact_key ?? undefined, serviceType: row.service_type ?? undefined };
}

/** NotFound unless the service exists and has not expired; inside a write, holds its row. Returns its owner, and whether it is still active. */
export async function requireServiceStatus(read: SqlReader, d: Dialect, serviceId: bigint, now: number): Promise<{ owner: Owner; active: boolean }> {
  const row = await read.one<OwnerRow & { completed_at: unknown }>(
    `SELECT customer_id, contact_key, service_type, completed_at FROM services WHERE service_id = ? AND ${LIVE}${d.forUpdate}`,
    [serviceId, now],
  );
  if (!row) throw notFound('service', serviceId);
  return { owner: ownerOf(row), active: row.completed_at === null };
}

/** requireServiceStatus's owner alone. */
export async function requireService(read: SqlReader, d: Dialect, serviceId: bigint, now: number): Promise<Owner> {
  return (await requireServiceStatus(read, d, serviceId, now)).owner;
}

/** Records writes to services: their idle time, which re-arms an expiry that is not fixed (EXPIRES_AT). */
export async function touchServices(tx: SqlWriter, d: Dialect, serviceIds: readonly bigint[], now: number): Promise<void> {
  if (serviceIds.length > 0) await tx.run(`UPDATE services SET updated_at = ? WHERE ${d.inList('service_id', 'bigint')}`, [now, d.list(serviceIds)]);
}

/** Applies a ttl / expiration_time given on an event or by PUT /services/{id}. */
async function setExpiry(tx: SqlWriter, serviceId: bigint, expiry: Expiry, now: number): Promise<void> {
  if (expiry.lifetimeMs !== undefined) {
    await tx.run('UPDATE services SET lifetime_ms = ?, expires_fixed = FALSE, expires_at = ?, updated_at = ? WHERE service_id = ?', [expiry.lifetimeMs, now + expiry.lifetimeMs, now, serviceId]);
  } else if (expiry.fixedAt !== undefined) {
    await tx.run('UPDATE services SET expires_fixed = TRUE, expires_at = ? WHERE service_id = ?', [expiry.fixedAt, serviceId]);
  }
}

/** The service's doc and owner, and whether the outcome rollups count it (migration 010). */
async function readDoc(read: SqlReader, d: Dialect, serviceId: bigint, now: number): Promise<{ doc: ElementDoc; owner: Owner; counted: boolean }> {
  const row = await read.one<DocRow>(
    `SELECT doc, customer_id, contact_key, service_type, counted FROM services WHERE service_id = ? AND ${LIVE}${d.forUpdate}`,
    [serviceId, now],
  );
  if (!row) throw notFound('service', serviceId);
  return { doc: decodeDoc(row.doc), owner: ownerOf(row), counted: Boolean(row.counted) };
}

export function startService(d: Dialect, start: ServiceStart): Write<bigint, undefined> {
  return {
    start,
    plan: async () => undefined,
    apply: async (tx, _plan, now) => (await insertServices(tx, d, [start], now))[0],
    events: (serviceId) => [
      { kind: 'service.started', serviceId, customerId: start.customerId, contactKey: start.contactKey, serviceType: typeKey(start.serviceType) ?? undefined },
    ],
    rollups: () => [serviceStarted(start.startedAt, start.serviceType)],
  };
}

export function endService(d: Dialect, serviceId: bigint, end: ElementEnd): Write<void, { doc: ElementDoc; owner: Owner; counted: boolean }> {
  return {
    lock: serviceId,
    plan: async (read, now) => {
      const { doc, owner, counted } = await readDoc(read, d, serviceId, now);
      return { doc: completeDoc('service', serviceId, doc, end), owner, counted };
    },
    apply: async (tx, { doc }, now) => {
      // one statement: the completion, and the write re-arms the expiry (updated_at)
      await tx.run(`UPDATE services SET ${setDoc('service_type')}, disposition = ?, updated_at = ? WHERE service_id = ?`, [...docParams(doc), typeKey(doc.disposition), now, serviceId]);
      if (end.expiry) await setExpiry(tx, serviceId, end.expiry, now);
      // its states left open are nobody waiting any more (the live board leaves them out)
      await tx.run('UPDATE states SET in_active_service = FALSE WHERE service_id = ? AND completed_at IS NULL', [serviceId]);
      await writeExtensions(tx, d, extensionWrites('service', serviceId, serviceId, end.extensions));
    },
    events: (_value, { owner }) => [{ kind: 'service.ended', serviceId, ...owner }],
    rollups: (_value, { doc, counted }) => (counted ? [serviceCompleted(doc)] : []),
  };
}

export function associateService(d: Dialect, serviceId: bigint, customerId: string, association: ServiceAssociation): Write<void, { doc: ElementDoc; owner: Owner }> {
  return {
    lock: serviceId,
    plan: async (read, now) => {
      const { doc, owner } = await readDoc(read, d, serviceId, now);
      return { doc: associateDoc(doc, association), owner };
    },
    apply: async (tx, { doc }, now) => {
      await tx.run(`UPDATE services SET customer_id = ?, ${setDoc('service_type')}, disposition = ?, updated_at = ? WHERE service_id = ?`, [
        customerId,
        ...docParams(doc),
        typeKey(doc.disposition),
        now,
        serviceId,
      ]);
      await writeExtensions(tx, d, extensionWrites('service', serviceId, serviceId, association.extensions));
    },
    // the new owner's subscribers hear of it; the contact key stays
    events: (_value, { owner }) => [{ kind: 'service.associated', serviceId, customerId, contactKey: owner.contactKey, serviceType: owner.serviceType }],
  };
}

export function updateServiceExpiration(d: Dialect, serviceId: bigint, expiry: Expiry): Write<void, Owner> {
  return {
    lock: serviceId,
    touches: serviceId,
    plan: (read, now) => requireService(read, d, serviceId, now),
    apply: (tx, _plan, now) => setExpiry(tx, serviceId, expiry, now),
    events: (_value, owner) => [{ kind: 'service.expiration', serviceId, ...owner }],
  };
}

export function deleteService(d: Dialect, serviceId: bigint): Write<void, { owner: Owner; removed: HourDelta[] }> {
  return {
    lock: serviceId,
    plan: async (read, now) => ({ owner: await requireService(read, d, serviceId, now), removed: await openRemovals(read, 'v.service_id = ?', [serviceId]) }),
    // states, tasks and extensions go with it (ON DELETE CASCADE), in this one transaction
    apply: async (tx) => void (await tx.run('DELETE FROM services WHERE service_id = ?', [serviceId])),
    events: (_value, { owner }) => [{ kind: 'service.deleted', serviceId, ...owner }],
    rollups: (_value, { removed }) => removed,
  };
}

export async function getService(read: SqlReader, serviceId: bigint, now: number): Promise<ServiceRecord | undefined> {
  const row = await read.one<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE service_id = ? AND ${LIVE}`, [serviceId, now]);
  return row && serviceFromRow(row);
}

/** SQL: the service-type and start-time conditions the lists and the search share (pushes their parameters). */
function typeAndTimeClauses(d: Dialect, filter: Pick<ServiceFilter, 'serviceTypes' | 'startedFrom' | 'startedTo'>, params: unknown[]): string {
  let sql = '';
  if (filter.serviceTypes.length > 0) {
    sql += ` AND ${d.inList('service_type', 'text')}`;
    params.push(d.list(filter.serviceTypes));
  }
  return sql + rangeClause('started_at', filter.startedFrom, filter.startedTo, params);
}

/** SQL: `column` in [from, to), either bound optional (epoch ms). */
function rangeClause(column: string, from: number | undefined, to: number | undefined, params: unknown[]): string {
  let sql = '';
  if (from !== undefined) {
    sql += ` AND ${column} >= ?`;
    params.push(from);
  }
  if (to !== undefined) {
    sql += ` AND ${column} < ?`;
    params.push(to);
  }
  return sql;
}

export async function listServices(read: SqlReader, d: Dialect, filter: ServiceFilter, now: number): Promise<ServiceRecord[]> {
  let sql: string;
  const params: unknown[] = [];
  if (filter.customerId !== undefined) {
    sql = CUSTOMER_SERVICES;
    params.push(filter.customerId);
  } else if (filter.contactKey !== undefined) {
    sql = ANONYMOUS_SERVICES;
    params.push(filter.contactKey);
  } else {
    throw new Error('listServices needs customerId or contactKey');
  }
  sql += `${statusClause(filter.status)} AND ${LIVE}`;
  params.push(now);
  sql += typeAndTimeClauses(d, filter, params) + afterClause('service_id', filter.after, params) + ORDER + pageClause(params, filter.limit, filter.offset);
  return (await read.all<ServiceRow>(sql, params)).map(serviceFromRow);
}

/**
 * Services of any owner, newest first, from a position on. Each filter has its index: a customer's
 * services_by_customer, a contact key's services_by_contact (associated services keep their key), the
 * active ones services_active_by_start, a type services_by_type.
 */
export async function searchServices(read: SqlReader, d: Dialect, search: ServiceSearch, now: number): Promise<ServiceRecord[]> {
  let sql = `SELECT ${SERVICE_COLUMNS} FROM services WHERE ${LIVE}`;
  const params: unknown[] = [now];
  for (const [column, value] of [['customer_id', search.customerId], ['contact_key', search.contactKey]] as const) {
    if (value === undefined) continue;
    sql += ` AND ${column} = ?`;
    params.push(value);
  }
  sql += statusClause(search.status) + typeAndTimeClauses(d, search, params);
  sql += rangeClause('completed_at', search.completedFrom, search.completedTo, params);
  if (search.dispositions.length > 0) {
    sql += ` AND ${d.inList('disposition', 'text')}`;
    params.push(d.list(search.dispositions));
  }
  if (search.stateTypes.length > 0) {
    // a state of one of these types, open or not: read per candidate service through states_by_service
    sql += ` AND EXISTS (SELECT 1 FROM states s WHERE s.service_id = services.service_id AND ${d.inList('s.state_type', 'text')})`;
    params.push(d.list(search.stateTypes));
  }
  for (const ext of search.extensions) {
    const where = extensionValueWhere(ext, params);
    // the values' own index finds the few services holding them (services_by_type and the others then only sort)
    sql += ` AND service_id IN (SELECT service_id FROM extension_values WHERE ${where})`;
  }
  if (search.after) {
    sql += ' AND (started_at < ? OR (started_at = ? AND service_id < ?))';
    params.push(search.after.startedAt, search.after.startedAt, search.after.id);
  }
  sql += ' ORDER BY started_at DESC, service_id DESC LIMIT ?';
  params.push(search.limit);
  return (await read.all<ServiceRow>(sql, params)).map(serviceFromRow);
}

/** The active-services query as listServices builds it, for EXPLAIN. */
export const ACTIVE_SERVICES_OF_CUSTOMER = `${CUSTOMER_SERVICES}${statusClause('active')} AND ${LIVE}${ORDER}`;
export const ANONYMOUS_SERVICES_OF_CONTACT = `${ANONYMOUS_SERVICES} AND ${LIVE}${ORDER}`;
