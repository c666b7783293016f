// Row <-> record mapping of the SQL store. An element's `doc` column holds its ElementDoc as JSON; the
// indexed columns beside it (started_at, completed_at, the type) are derived from that doc in one
// place, `docColumns`, so the two can never disagree.
import { parseStoredJson, stringifyJson } from '../domain/json.js';
import { typeKey } from '../domain/fields.js';
import type { ElementDoc } from '../domain/lifecycle.js';
import type { ElementFields, Extensions, ServiceRecord, StateRecord, TaskRecord } from '../domain/records.js';


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

/** The stored columns of an element's doc: the JSON and the indexed columns derived from it. */
export interface DocColumns {
  doc: string;
  startedAt: number;
  completedAt: number | null;
  /** text form of the type, for type filters */
  type: string | null;
}

/** The one place the indexed columns come from: every write of a doc writes these together. */
export function docColumns(doc: ElementDoc): DocColumns {
  return {
    doc: stringifyJson(doc),
    startedAt: Date.parse(doc.started.timestamp),
    completedAt: doc.completed ? Date.parse(doc.completed.timestamp) : null,
    type: typeKey(doc.type),
  };
}

function fieldsOf(doc: ElementDoc, startedAt: number, completedAt: number | undefined): ElementFields {
  const fields: ElementFields = { started: doc.started, startedAt };
  if (doc.est_duration !== undefined) fields.estDuration = doc.est_duration;
  if (doc.disposition !== undefined) fields.disposition = doc.disposition;
  if (doc.disposition_desc !== undefined) fields.dispositionDesc = doc.disposition_desc;
  if (doc.completed !== undefined) fields.completed = doc.completed;
  if (completedAt !== undefined) fields.completedAt = completedAt;
  return fields;
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
    extensions.set(row.name_key, { name: row.name, value: parseStoredJson(row.value) });
  }
  return byOwner;
}

const optionalNumber = (v: bigint | number | null): number | undefined => (v === null ? undefined : Number(v));

// ---- rows (SQLite hands integers over as bigint, pg int4 as number and int8 as bigint) ----

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
