// One record of a bulk import (#19): a whole service as an export gives it — contextd's own
// (`/maintenance/services/stream?export_content=true`, `contextd export --content`) and Genesys
// Context Services' of the same name, which share the documented Service shape — read back into the
// starts and ends the API takes, through the API's own parsers: an imported record is checked
// exactly as the requests that would have built it, and anything the API would refuse is refused
// here, with the record's position and the reason.
import { createHash } from 'node:crypto';
import { invalid, DomainError } from './errors.js';
import { parseElementEnd, parseServiceStart, parseStateStart, parseTaskStart } from './events.js';
import { showValue } from './fields.js';
import { stringifyJson } from './json.js';
import type { ElementEnd, ServiceStart, StateStart, TaskStart } from './records.js';

export interface ImportedElement<S> {
  /** its id in the file: states and tasks refer to states by it */
  sourceId?: number;
  start: S;
  end?: ElementEnd;
}

export interface ImportedService {
  /** service_id as the file gives it (a Genesys id is text), for the report */
  sourceId?: string;
  /** the id to keep when it is free: the file's id when it is a contextd one (a positive 64-bit integer) */
  keepId?: bigint;
  /** identifies the record's content: importing the same record again finds it imported */
  digest: string;
  start: ServiceStart;
  end?: ElementEnd;
  states: ImportedElement<StateStart>[];
  tasks: ImportedElement<TaskStart>[];
}

type Json = Record<string, unknown>;

const MAX_ID = (1n << 63n) - 1n;

function object(value: unknown, label: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${label} must be a JSON object, got ${Array.isArray(value) ? 'an array' : showValue(value)}`);
  return value as Json;
}

function list(record: Json, field: string): Json[] {
  const value = record[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${field} must be an array`);
  return value.map((item, i) => object(item, `${field}[${i}]`));
}

/** The element's started event must say when: an import never takes the time of the import. */
function startedOf(element: Json, label: string): Json {
  const started = object(element.started, `${label}.started`);
  if (started.timestamp === undefined) throw invalid(`${label}.started.timestamp is mandatory in an import`);
  return started;
}

function within<T>(label: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof DomainError) throw invalid(`${label}: ${error.message}`);
    throw error;
  }
}

function elementId(value: unknown, label: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 0x7fffffff) throw invalid(`${label} must be a positive 32-bit integer, got ${showValue(value)}`);
  return n;
}

/** A completed element's end, from its `completed` event and hoisted disposition. */
function endOf(element: Json, kind: 'service' | 'state' | 'task', label: string, startedAt: number, now: number): ElementEnd | undefined {
  if (element.completed === undefined || element.completed === null) return undefined;
  const completed = object(element.completed, `${label}.completed`);
  if (completed.timestamp === undefined) throw invalid(`${label}.completed.timestamp is mandatory in an import`);
  const end = within(`${label}.completed`, () => parseElementEnd({ ...completed, disposition: element.disposition, disposition_desc: element.disposition_desc }, now, kind));
  if (end.completedAt < startedAt) throw invalid(`${label}: completed.timestamp ${end.completed.timestamp} is earlier than started.timestamp`);
  return { ...end, extensions: new Map() };
}

/** A service's states or tasks (active and completed), each read by its start parser, its ids each once. */
function elementsOf<S extends { startedAt: number }>(record: Json, kind: 'state' | 'task', parseStart: (body: Json) => S, now: number): ImportedElement<S>[] {
  const ids = new Set<number>();
  return [...list(record, `active_${kind}s`), ...list(record, `completed_${kind}s`)].map((element, i) => {
    const label = `${kind} ${element[`${kind}_id`] ?? `#${i + 1}`}`;
    const sourceId = elementId(element[`${kind}_id`], `${label}: ${kind}_id`);
    if (sourceId !== undefined) {
      if (ids.has(sourceId)) throw invalid(`${label}: two ${kind}s have this ${kind}_id`);
      ids.add(sourceId);
    }
    const started = startedOf(element, label);
    const start = within(label, () => parseStart({ ...element, ...started }));
    return { sourceId, start, end: endOf(element, kind, label, start.startedAt, now) };
  });
}

/**
 * Reads one exported service. The element fields go where the API's own requests put them (the
 * started event's fields flattened into the start, the hoisted disposition into the end); every
 * key that is not a documented field is an extension of its element, as on a start request.
 */
export function parseImportedService(raw: unknown, now: number): ImportedService {
  const record = object(raw, 'the record');
  const sourceId = record.service_id === undefined || record.service_id === null ? undefined : String(record.service_id);
  const keepId = sourceId !== undefined && /^[1-9]\d{0,18}$/.test(sourceId) && BigInt(sourceId) <= MAX_ID ? BigInt(sourceId) : undefined;

  const started = startedOf(record, 'service');
  const start = within('service', () => parseServiceStart({ ...record, ...started }, now));
  const end = endOf(record, 'service', 'service', start.startedAt, now);

  const states = elementsOf(record, 'state', (state) => parseStateStart(state, now), now);
  const stateIds = new Set(states.flatMap((state) => (state.sourceId === undefined ? [] : [state.sourceId])));
  for (const state of states) {
    const previous = state.start.started.previous_state_id;
    if (previous !== undefined && !stateIds.has(previous)) throw invalid(`state ${state.sourceId}: previous_state_id ${previous} is not a state of this service`);
  }
  const tasks = elementsOf(record, 'task', (task) => parseTaskStart(task, now), now);
  for (const [i, task] of tasks.entries()) {
    const stateId = task.start.stateId;
    if (stateId !== undefined && !stateIds.has(stateId)) throw invalid(`task ${task.sourceId ?? `#${i + 1}`}: state_id ${stateId} is not a state of this service`);
  }

  const digest = createHash('sha256').update(stringifyJson(record)).digest('base64url');
  return { sourceId, keepId, digest, start, end, states, tasks };
}
