// An imported service as the store writes it (#19): its documents serialized, its indexed columns,
// its extensions' rows and its rollup deltas — everything but the ids and the time of the write. An
// import builds these in its worker thread (app/import-worker.ts), off the thread that writes, and
// sends them over as flat rows rather than as the nested records they come from: copying nested
// records between threads, and building rows from them on the writing thread, cost as much as the
// writes. The write (sql/import.ts) claims the ids and completes the rows.
import { encodeDeltas, mergeDeltas, serviceCompleted, serviceStarted, stateCompleted, stateStarted, type HourDelta } from '../domain/analytics.js';
import { autoCompleteAfterMs, type Expiry } from '../domain/expiration.js';
import { typeKey, type LongOrString } from '../domain/fields.js';
import type { ImportedService } from '../domain/import.js';
import { stringifyJson } from '../domain/json.js';
import { completeDoc, type ElementDoc } from '../domain/lifecycle.js';
import type { ElementEnd, Extensions } from '../domain/records.js';
import { docColumns, docOf } from './codec.js';

/** An extension of the service or one of its elements: its owner by position in the record. */
export interface ImportedExtension {
  owner: 'service' | 'state' | 'task';
  /** the owner's position among the record's states or tasks (0 for the service) */
  index: number;
  /** the lower-cased name */
  key: string;
  name: string;
  /** the value as stored (JSON text) */
  value: string;
  /** the values of its schema's searchable attributes (none: the extension has none) */
  indexed: { attribute: string; text: string | null; number: number | bigint | null }[];
}

export interface ImportedState {
  /** its id in the file (states and tasks refer to states by it) */
  sourceId?: number;
  /** started.previous_state_id as the file gives it: the doc holds it, and is rewritten when that state's id is not kept */
  previous?: number;
  type: string | null;
  startedAt: number;
  completedAt: number | null;
  doc: string;
  mediaType: string | null;
}

export interface ImportedTask {
  sourceId?: number;
  /** the file's id of the task's state */
  stateId?: number;
  type: string | null;
  startedAt: number;
  completedAt: number | null;
  doc: string;
}

export interface ImportRows {
  /** service_id as the file gives it, for the report */
  sourceId?: string;
  /** the id to keep when it is free */
  keepId?: bigint;
  digest: string;
  /** for the expiry, which the write computes (the scope's lifetime for the type, from the time of the write) */
  serviceType: LongOrString;
  expiry?: Expiry;
  customerId: string | null;
  contactKey: string | null;
  type: string | null;
  startedAt: number;
  completedAt: number | null;
  autoCompleteAfterMs: number | null;
  disposition: string | null;
  doc: string;
  states: ImportedState[];
  tasks: ImportedTask[];
  extensions: ImportedExtension[];
  /** what the service adds to the analytics rollups (encodeDeltas) */
  deltas: string;
}

/** A batch of an import: its services, and what they all add to the rollups (merged once, for the usual batch whose every service is new). */
export interface ImportBatch {
  services: ImportRows[];
  /** encodeDeltas of the merged deltas of every service in the batch */
  deltas: string;
}

function withEnd(kind: 'service' | 'state' | 'task', id: bigint | number, doc: ElementDoc, end: ElementEnd | undefined): ElementDoc {
  return end ? completeDoc(kind, id, doc, end) : doc;
}

function extensionsOf(owner: ImportedExtension['owner'], index: number, extensions: Extensions): ImportedExtension[] {
  return [...extensions].map(([key, ext]) => ({
    owner,
    index,
    key,
    name: ext.name,
    value: stringifyJson(ext.value),
    indexed: (ext.indexed ?? []).map((v) => ({ attribute: v.attribute, text: v.text ?? null, number: v.number ?? null })),
  }));
}

/** The rows of one checked record, and its deltas (unencoded, for the batch's merge). */
export function importRowsOf(record: ImportedService): { rows: ImportRows; deltas: HourDelta[] } {
  const { start, end } = record;
  const label = record.keepId ?? 0;
  const serviceDoc = withEnd('service', label, docOf({ ...start, type: start.serviceType }), end);
  const c = docColumns(serviceDoc);
  const serviceType = typeKey(start.serviceType) ?? undefined;
  const deltas = [serviceStarted(start.startedAt, start.serviceType)];
  if (end) deltas.push(serviceCompleted(serviceDoc));
  const extensions = extensionsOf('service', 0, start.extensions);
  const states = record.states.map((state, index): ImportedState => {
    const doc = withEnd('state', state.sourceId ?? 0, docOf({ ...state.start, type: state.start.stateType }), state.end);
    const s = docColumns(doc);
    extensions.push(...extensionsOf('state', index, state.start.extensions));
    deltas.push(stateStarted(state.start.startedAt, state.start.stateType, serviceType, state.start.started.media_type));
    if (state.end) deltas.push(stateCompleted(doc, serviceType));
    return { sourceId: state.sourceId, previous: state.start.started.previous_state_id, type: s.type, startedAt: s.startedAt, completedAt: s.completedAt, doc: s.doc, mediaType: typeKey(state.start.started.media_type) };
  });
  const tasks = record.tasks.map((task, index): ImportedTask => {
    const t = docColumns(withEnd('task', task.sourceId ?? 0, docOf({ ...task.start, type: task.start.taskType }), task.end));
    extensions.push(...extensionsOf('task', index, task.start.extensions));
    return { sourceId: task.sourceId, stateId: task.start.stateId, type: t.type, startedAt: t.startedAt, completedAt: t.completedAt, doc: t.doc };
  });
  const rows: ImportRows = {
    sourceId: record.sourceId,
    keepId: record.keepId,
    digest: record.digest,
    serviceType: start.serviceType,
    expiry: start.expiry,
    customerId: start.customerId ?? null,
    contactKey: start.contactKey ?? null,
    type: c.type,
    startedAt: c.startedAt,
    completedAt: c.completedAt,
    autoCompleteAfterMs: autoCompleteAfterMs(start),
    disposition: typeKey(serviceDoc.disposition),
    doc: c.doc,
    states,
    tasks,
    extensions,
    deltas: encodeDeltas(deltas),
  };
  return { rows, deltas };
}

/** The deltas of several services' rows, merged. */
export function mergedDeltas(deltas: readonly HourDelta[][]): string {
  return encodeDeltas(mergeDeltas(deltas.flat()));
}
