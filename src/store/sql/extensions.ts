// The extensions of services, states and tasks, written once for both stores.
import { notFound } from '../../domain/errors.js';
import { stringifyJson } from '../../domain/json.js';
import type { ExtensionValue, Extensions } from '../../domain/records.js';
import type { ExtensionValueFilter } from '../../domain/schemas.js';
import { groupExtensions, type ExtensionRow } from '../codec.js';
import type { ExtensionChange, ExtensionOwner } from '../store.js';
import type { ColumnType, Dialect, SqlReader, SqlWriter } from './dialect.js';
import { requireService, type Owner } from './services.js';
import type { Write } from './write.js';

export interface ExtensionWrite {
  kind: ExtensionOwner['kind'];
  ownerId: bigint | number;
  serviceId: bigint;
  /** the lower-cased name */
  key: string;
  ext: ExtensionValue;
}

const EXTENSION_EVENTS = { service: 'service.extension', state: 'state.extension', task: 'task.extension' } as const;

const EXTENSION_ROW_TYPES: ColumnType[] = ['text', 'bigint', 'bigint', 'text', 'text', 'text'];

/**
 * Creates or replaces extensions (by owner and case-insensitive name), all in one statement. `created`:
 * their owners were inserted by this write, so they have no indexed values to replace yet.
 */
export async function writeExtensions(tx: SqlWriter, d: Dialect, extensions: readonly ExtensionWrite[], created = false): Promise<void> {
  if (extensions.length === 0) return;
  await upsertExtensionRows(
    tx,
    d,
    extensions.map((e) => [e.kind, e.ownerId, e.serviceId, e.key, e.ext.name, stringifyJson(e.ext.value)]),
  );
  await replaceIndexedValues(tx, d, extensions, created);
}

/** Creates or replaces extensions from their rows (EXTENSION_ROW_TYPES: kind, owner, service, lower-cased name, name, value as JSON text). */
export async function upsertExtensionRows(tx: SqlWriter, d: Dialect, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  // WHERE TRUE: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON
  await tx.run(
    `INSERT INTO extensions (owner_kind, owner_id, service_id, name_key, name, value) SELECT c0, c1, c2, c3, c4, c5 FROM ${d.rows(EXTENSION_ROW_TYPES)} WHERE TRUE
     ON CONFLICT (owner_kind, owner_id, name_key) DO UPDATE SET name = excluded.name, value = excluded.value`,
    d.rowParams(EXTENSION_ROW_TYPES, rows),
  );
}

const INDEXED_ROW_TYPES: ColumnType[] = ['bigint', 'text', 'bigint', 'text', 'text', 'text', 'numeric'];

/** Replaces the element's indexed values of each extension whose schema has searchable attributes (extension_values, migration 014). */
export async function replaceIndexedValues(tx: SqlWriter, d: Dialect, extensions: readonly ExtensionWrite[], created = false): Promise<void> {
  const indexed = extensions.filter((e) => e.ext.indexed !== undefined);
  if (indexed.length === 0) return;
  if (!created) {
    for (const e of indexed) {
      await tx.run('DELETE FROM extension_values WHERE service_id = ? AND owner_kind = ? AND owner_id = ? AND name_key = ?', [e.serviceId, e.kind, e.ownerId, e.key]);
    }
  }
  await insertIndexedRows(
    tx,
    d,
    indexed.flatMap((e) => e.ext.indexed!.map((v) => [e.serviceId, e.kind, e.ownerId, e.key, v.attribute, v.text ?? null, v.number ?? null])),
  );
}

/** Adds indexed values from their rows (INDEXED_ROW_TYPES: service, kind, owner, lower-cased name, attribute, text, number). */
export async function insertIndexedRows(tx: SqlWriter, d: Dialect, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  await tx.run(
    `INSERT INTO extension_values (service_id, owner_kind, owner_id, name_key, attribute, text_value, number_value) SELECT c0, c1, c2, c3, c4, c5, c6 FROM ${d.rows(INDEXED_ROW_TYPES)}`,
    d.rowParams(INDEXED_ROW_TYPES, rows),
  );
}

/** SQL over extension_values for one search filter; its parameters appended to `params`. */
export function extensionValueWhere(filter: ExtensionValueFilter, params: unknown[]): string {
  let sql = 'name_key = ? AND attribute = ?';
  params.push(filter.extension, filter.attribute);
  if (filter.equals?.text !== undefined) {
    sql += ' AND text_value = ?';
    params.push(filter.equals.text);
  } else if (filter.equals?.number !== undefined) {
    sql += ' AND number_value = ?';
    params.push(filter.equals.number);
  }
  if (filter.min !== undefined) {
    sql += ' AND number_value >= ?';
    params.push(filter.min);
  }
  if (filter.max !== undefined) {
    sql += ' AND number_value <= ?';
    params.push(filter.max);
  }
  return sql;
}

/** The extensions of one element as `ExtensionWrite`s. */
export function extensionWrites(kind: ExtensionOwner['kind'], ownerId: bigint | number, serviceId: bigint, extensions: Extensions): ExtensionWrite[] {
  return [...extensions].map(([key, ext]) => ({ kind, ownerId, serviceId, key, ext }));
}

/** NotFound unless the element exists in a live service; returns the service's owner. */
async function requireOwner(read: SqlReader, d: Dialect, owner: ExtensionOwner, now: number): Promise<Owner> {
  const serviceOwner = await requireService(read, d, owner.serviceId, now);
  if (owner.kind === 'service') return serviceOwner;
  const table = owner.kind === 'state' ? 'states' : 'tasks';
  const found = await read.one(`SELECT 1 AS found FROM ${table} WHERE ${owner.kind}_id = ? AND service_id = ?`, [owner.id, owner.serviceId]);
  if (!found) throw notFound(owner.kind, owner.id);
  return serviceOwner;
}

export function putExtensions(d: Dialect, owner: ExtensionOwner, extensions: Extensions | ExtensionChange): Write<void, { planned: Extensions; serviceOwner: Owner }> {
  const ownerId = owner.kind === 'service' ? owner.serviceId : owner.id;
  return {
    lock: owner.serviceId,
    touches: owner.serviceId,
    plan: async (read, now) => {
      const serviceOwner = await requireOwner(read, d, owner, now);
      if (typeof extensions !== 'function') return { planned: extensions, serviceOwner };
      const rows = await read.all<ExtensionRow>('SELECT owner_id, name_key, name, value FROM extensions WHERE owner_kind = ? AND owner_id = ?', [owner.kind, ownerId]);
      return { planned: extensions(groupExtensions(rows).get(String(ownerId)) ?? new Map()), serviceOwner };
    },
    apply: (tx, { planned }) => writeExtensions(tx, d, extensionWrites(owner.kind, ownerId, owner.serviceId, planned)),
    events: (_value, { planned, serviceOwner }) => [
      {
        kind: EXTENSION_EVENTS[owner.kind],
        serviceId: owner.serviceId,
        ...serviceOwner,
        details: { ...(owner.kind === 'state' ? { state_id: owner.id } : owner.kind === 'task' ? { task_id: owner.id } : {}), extension: [...planned.values()].map((e) => e.name).join(',') },
      },
    ],
  };
}

export async function loadExtensions(read: SqlReader, d: Dialect, kind: ExtensionOwner['kind'], ids: (bigint | number)[]): Promise<Map<string, Extensions>> {
  if (ids.length === 0) return new Map();
  const rows = await read.all<ExtensionRow>(`SELECT owner_id, name_key, name, value FROM extensions WHERE owner_kind = ? AND ${d.inList('owner_id', 'bigint')}`, [kind, d.list(ids)]);
  return groupExtensions(rows);
}
