// Row <-> record mapping shared by the SQL stores: the `doc` column holds an ElementDoc as JSON.
import { DomainError, invalid } from '../domain/errors.js';
import { parseStoredJson, stringifyJson } from '../domain/json.js';
import type { IdentificationKey } from '../domain/profiles.js';
import type { ElementDoc } from '../domain/lifecycle.js';
import type { ElementFields, ElementStatus, Extensions, ServiceRecord, StateRecord, TaskRecord } from '../domain/records.js';
import type { IdempotentResponse } from './store.js';

export function encodeDoc(doc: ElementDoc): string {
  return stringifyJson(doc);
}

export function decodeDoc(text: string): ElementDoc {
  return parseStoredJson(text) as ElementDoc;
}

export function docOf(fields: { type?: ElementDoc['type'] } & Omit<ElementFields, 'startedAt' | 'completedAt'>): ElementDoc {
  const doc: ElementDoc = { started: fields.started };
  if (fields.type !== undefined) doc.type = fields.type;
  if (fields.estDuration !== undefined) doc.est_duration = fields.estDuration;
  if (fields.disposition !== undefined) doc.disposition = fields.disposition;
  if (fields.dispositionDesc !== undefined) doc.disposition_desc = fields.dispositionDesc;
  if (fields.completed !== undefined) doc.completed = fields.completed;
  return doc;
}

export function fieldsOf(doc: ElementDoc, startedAt: number, completedAt: number | undefined): ElementFields {
  const fields: ElementFields = { started: doc.started, startedAt };
  if (doc.est_duration !== undefined) fields.estDuration = doc.est_duration;
  if (doc.disposition !== undefined) fields.disposition = doc.disposition;
  if (doc.disposition_desc !== undefined) fields.dispositionDesc = doc.disposition_desc;
  if (doc.completed !== undefined) fields.completed = doc.completed;
  if (completedAt !== undefined) fields.completedAt = completedAt;
  return fields;
}

export function encodeExtensionValue(value: unknown): string {
  return stringifyJson(value);
}

export function decodeExtensionValue(text: string): unknown {
  return parseStoredJson(text);
}

export interface ExtensionRow {
  owner_id: bigint | number | string;
  name_key: string;
  name: string;
  value: string;
}

export function groupExtensions(rows: ExtensionRow[]): Map<string, Extensions> {
  const byOwner = new Map<string, Extensions>();
  for (const row of rows) {
    const key = String(row.owner_id);
    let extensions = byOwner.get(key);
    if (!extensions) byOwner.set(key, (extensions = new Map()));
    extensions.set(row.name_key, { name: row.name, value: decodeExtensionValue(row.value) });
  }
  return byOwner;
}

export const encodeJson = stringifyJson;
export const decodeJson = parseStoredJson;

/** The smallest text greater than every text that starts with `prefix` (index texts never hold U+007F). */
export function upperBound(prefix: string): string {
  return `${prefix}\u007f`;
}

export function duplicateIdentity(key: IdentificationKey, value: string): DomainError {
  const shown = value.split('|').filter(Boolean).map(decodeURIComponent).join(', ');
  return invalid(`identification key ${key.name} is unique and another customer already has ${key.attributes.join(', ')} = ${shown}`);
}

export function keyInUse(schema: string, key: IdentificationKey): DomainError {
  return invalid(`extension ${schema} cannot be deleted: identification key ${key.name} is built on it`);
}

export function schemaExists(entity: string, name: string): DomainError {
  return invalid(`a ${entity} extension schema named ${name} exists already`);
}

export const optionalNumber = (v: bigint | number | null): number | undefined => (v === null ? undefined : Number(v));

/** The SQL condition of an active / completed / all list. */
export function statusClause(status: ElementStatus): string {
  if (status === 'active') return ' AND completed_at IS NULL';
  if (status === 'completed') return ' AND completed_at IS NOT NULL';
  return '';
}

// ---- rows of the SQL stores (SQLite hands integers over as bigint, pg int4 as number) ----

export interface ServiceRow {
  service_id: bigint;
  customer_id: string | null;
  contact_key: string | null;
  started_at: bigint;
  completed_at: bigint | null;
  expires_at: bigint | null;
  doc: string;
}

export interface StateRow {
  state_id: bigint | number;
  service_id: bigint;
  started_at: bigint;
  completed_at: bigint | null;
  doc: string;
}

export interface TaskRow extends Omit<StateRow, 'state_id'> {
  task_id: bigint | number;
  state_id: bigint | number | null;
}

export function serviceFromRow(row: ServiceRow): ServiceRecord {
  const doc = decodeDoc(row.doc);
  const record: ServiceRecord = { serviceId: row.service_id, ...fieldsOf(doc, Number(row.started_at), optionalNumber(row.completed_at)) };
  if (row.customer_id !== null) record.customerId = row.customer_id;
  if (row.contact_key !== null) record.contactKey = row.contact_key;
  if (doc.type !== undefined) record.serviceType = doc.type;
  if (row.expires_at !== null) record.expiresAt = Number(row.expires_at);
  return record;
}

export function stateFromRow(row: StateRow): StateRecord {
  const doc = decodeDoc(row.doc);
  const record: StateRecord = { serviceId: row.service_id, stateId: Number(row.state_id), ...fieldsOf(doc, Number(row.started_at), optionalNumber(row.completed_at)) };
  if (doc.type !== undefined) record.stateType = doc.type;
  return record;
}

export function taskFromRow(row: TaskRow): TaskRecord {
  const doc = decodeDoc(row.doc);
  const record: TaskRecord = { serviceId: row.service_id, taskId: Number(row.task_id), ...fieldsOf(doc, Number(row.started_at), optionalNumber(row.completed_at)) };
  if (row.state_id !== null) record.stateId = Number(row.state_id);
  if (doc.type !== undefined) record.taskType = doc.type;
  return record;
}

export interface IdempotentRow {
  idem_key: string;
  fingerprint: string;
  status: number | bigint;
  location: string | null;
  body: string;
  created_at: number | bigint;
}

export function idempotentFromRow(row: IdempotentRow): IdempotentResponse {
  return {
    key: row.idem_key,
    fingerprint: row.fingerprint,
    status: Number(row.status),
    ...(row.location === null ? {} : { location: row.location }),
    body: row.body,
    createdAt: Number(row.created_at),
  };
}
