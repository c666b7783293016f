// Turns request bodies (start/end/associate/transition events) into domain writes. Documented fields
// are validated and normalized; every other top-level key is an extension (spec: "Extensions").
import { invalid } from './errors.js';
import { checkUnsafeKeys } from './json.js';
import {
  formatTimestamp,
  readInt32,
  readLongOrString,
  readNonNegativeInt32,
  readStringId,
  readText,
  readTimestamp,
} from './fields.js';
import type { Expiry } from './expiration.js';
import type {
  ElementEnd,
  EventData,
  Extensions,
  ServiceAssociation,
  ServiceStart,
  StateStart,
  StateTransition,
  TaskStart,
} from './records.js';

/** Field names that are never extensions (spec reference §3.7). */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set([
  'customer_id', 'contact_key', 'service_type', 'state_type', 'task_type',
  'session_id', 'interaction_id', 'application_type', 'application_id', 'resource_type', 'resource_id',
  'media_type', 'est_duration', 'timestamp', 'ttl', 'expiration_time', 'auto_complete_after',
  'disposition', 'disposition_desc', 'previous_state_id',
  'service_id', 'state_id', 'task_id', 'started', 'completed', 'duration',
  'active_states', 'completed_states', 'active_tasks', 'completed_tasks', 'from', 'to',
]);

export const MAX_EXTENSION_NAME_LENGTH = 256;

type Body = Record<string, unknown>;

/** The event fields shared by every start and end event, kept inside `started` / `completed`. */
const EVENT_FIELD_READERS = {
  session_id: readStringId,
  interaction_id: readStringId,
  application_type: readLongOrString,
  application_id: readInt32,
  resource_type: readLongOrString,
  resource_id: readInt32,
  media_type: readLongOrString,
} as const satisfies Record<string, (field: string, value: unknown) => unknown>;

export function asBody(body: unknown, optional: boolean): Body {
  if (body === undefined || body === null) {
    if (optional) return {};
    throw invalid('the request body must be a JSON object');
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('the request body must be a JSON object');
  return body as Body;
}

export function checkExtensionName(name: string): string {
  if (name.length === 0 || name.length > MAX_EXTENSION_NAME_LENGTH) {
    throw invalid(`extension names must have 1 to ${MAX_EXTENSION_NAME_LENGTH} characters`);
  }
  if (RESERVED_FIELDS.has(name)) throw invalid(`${name} is a reserved field name and cannot be an extension`);
  if (name === '__proto__') throw invalid('__proto__ is not allowed as an extension name');
  return name;
}

/** Every key of the body that is not a documented field, keyed by its lower-cased name. */
function extensionsOf(body: Body): Extensions {
  const extensions: Extensions = new Map();
  for (const name of Object.keys(body)) {
    if (RESERVED_FIELDS.has(name)) continue;
    checkExtensionName(name);
    extensions.set(name.toLowerCase(), { name, value: body[name] });
  }
  return extensions;
}

// Fields are read by name at each call site (body.customer_id), not by a key passed to a helper: a
// helper's one keyed load sees every field of every body shape, and that megamorphic lookup was the
// largest single cost of an import's parsing (#19).
function optional<T>(value: unknown, label: string, read: (field: string, value: unknown) => T): T | undefined {
  return value === undefined ? undefined : read(label, value);
}

function eventFields(body: Body, prefix = ''): Partial<EventData> {
  const { session_id, interaction_id, application_type, application_id, resource_type, resource_id, media_type } = body;
  const event: Partial<Record<keyof typeof EVENT_FIELD_READERS, unknown>> = {};
  if (session_id !== undefined) event.session_id = EVENT_FIELD_READERS.session_id(`${prefix}session_id`, session_id);
  if (interaction_id !== undefined) event.interaction_id = EVENT_FIELD_READERS.interaction_id(`${prefix}interaction_id`, interaction_id);
  if (application_type !== undefined) event.application_type = EVENT_FIELD_READERS.application_type(`${prefix}application_type`, application_type);
  if (application_id !== undefined) event.application_id = EVENT_FIELD_READERS.application_id(`${prefix}application_id`, application_id);
  if (resource_type !== undefined) event.resource_type = EVENT_FIELD_READERS.resource_type(`${prefix}resource_type`, resource_type);
  if (resource_id !== undefined) event.resource_id = EVENT_FIELD_READERS.resource_id(`${prefix}resource_id`, resource_id);
  if (media_type !== undefined) event.media_type = EVENT_FIELD_READERS.media_type(`${prefix}media_type`, media_type);
  return event as Partial<EventData>;
}

function eventTime(body: Body, nowMs: number): number {
  return body.timestamp !== undefined ? readTimestamp('timestamp', body.timestamp) : nowMs;
}

/** ttl wins over expiration_time; both are validated when both are given. */
function expiration(body: Body): { ttl?: number; expirationTime?: number; expiry?: Expiry } {
  const ttl = optional(body.ttl, 'ttl', readNonNegativeInt32);
  const expirationTime = optional(body.expiration_time, 'expiration_time', readTimestamp);
  const expiry = ttl !== undefined ? { lifetimeMs: ttl * 1000 } : expirationTime !== undefined ? { fixedAt: expirationTime } : undefined;
  return { ttl, expirationTime, expiry };
}

/** A copy without the undefined fields, in the same order (a copy: deleting keys turns an object into a slow dictionary). */
function withoutUndefined<T extends object>(value: T): T {
  const copy = {} as T;
  for (const key in value) if (value[key] !== undefined) copy[key] = value[key];
  return copy;
}

export function parseServiceStart(raw: unknown, nowMs: number): ServiceStart {
  const body = asBody(raw, false);
  const customerId = optional(body.customer_id, 'customer_id', readStringId);
  const contactKey = optional(body.contact_key, 'contact_key', readStringId);
  if (customerId === undefined && contactKey === undefined) throw invalid('customer_id or contact_key is mandatory');
  if (body.service_type === undefined) throw invalid('service_type is mandatory');
  const serviceType = readLongOrString('service_type', body.service_type);
  const startedAt = eventTime(body, nowMs);
  const { ttl, expirationTime, expiry } = expiration(body);
  const autoCompleteAfter = optional(body.auto_complete_after, 'auto_complete_after', readNonNegativeInt32);
  const started: EventData = withoutUndefined({
    timestamp: formatTimestamp(startedAt),
    ...eventFields(body),
    ttl,
    expiration_time: expirationTime === undefined ? undefined : formatTimestamp(expirationTime),
    auto_complete_after: autoCompleteAfter,
  });
  return withoutUndefined({
    customerId,
    contactKey,
    serviceType,
    estDuration: optional(body.est_duration, 'est_duration', readInt32),
    disposition: optional(body.disposition, 'disposition', readLongOrString),
    dispositionDesc: optional(body.disposition_desc, 'disposition_desc', readText),
    started,
    startedAt,
    expiry,
    extensions: extensionsOf(body),
  });
}

/** End event of a service, state or task. Fields that belong to start events are ignored, not rejected. */
export function parseElementEnd(raw: unknown, nowMs: number, kind: 'service' | 'state' | 'task'): ElementEnd {
  const body = asBody(raw, true);
  const completedAt = eventTime(body, nowMs);
  const exp = kind === 'service' ? expiration(body) : {};
  const completed: EventData = withoutUndefined({
    timestamp: formatTimestamp(completedAt),
    ...eventFields(body),
    ttl: exp.ttl,
    expiration_time: exp.expirationTime === undefined ? undefined : formatTimestamp(exp.expirationTime),
  });
  return withoutUndefined({
    disposition: optional(body.disposition, 'disposition', readLongOrString),
    dispositionDesc: optional(body.disposition_desc, 'disposition_desc', readText),
    completed,
    completedAt,
    expiry: exp.expiry,
    extensions: extensionsOf(body),
  });
}

export function parseServiceAssociation(raw: unknown): ServiceAssociation {
  const body = asBody(raw, true);
  return withoutUndefined({
    serviceType: optional(body.service_type, 'service_type', readLongOrString),
    disposition: optional(body.disposition, 'disposition', readLongOrString),
    dispositionDesc: optional(body.disposition_desc, 'disposition_desc', readText),
    startedPatch: eventFields(body),
    extensions: extensionsOf(body),
  });
}

export function parseStateStart(raw: unknown, nowMs: number): StateStart {
  const body = asBody(raw, false);
  if (body.state_type === undefined) throw invalid('state_type is mandatory');
  const stateType = readLongOrString('state_type', body.state_type);
  const startedAt = eventTime(body, nowMs);
  return withoutUndefined({
    stateType,
    estDuration: optional(body.est_duration, 'est_duration', readInt32),
    started: withoutUndefined({
      timestamp: formatTimestamp(startedAt),
      ...eventFields(body),
      previous_state_id: optional(body.previous_state_id, 'previous_state_id', readInt32),
    }),
    startedAt,
    extensions: extensionsOf(body),
  });
}

export function parseTaskStart(raw: unknown, nowMs: number): TaskStart {
  const body = asBody(raw, true);
  const startedAt = eventTime(body, nowMs);
  return withoutUndefined({
    taskType: optional(body.task_type, 'task_type', readLongOrString),
    stateId: optional(body.state_id, 'state_id', readInt32),
    estDuration: optional(body.est_duration, 'est_duration', readInt32),
    started: withoutUndefined({ timestamp: formatTimestamp(startedAt), ...eventFields(body) }),
    startedAt,
    extensions: extensionsOf(body),
  });
}

function subObject(body: Body, field: 'from' | 'to'): Body {
  const value = body[field];
  if (value === undefined) throw invalid(`${field} is mandatory`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${field} must be a JSON object`);
  return value as Body;
}

/**
 * Ends `from.state_id` and starts `to.state_type` in one step. Shared event fields and the timestamp go
 * to both events; top-level extensions go to the new state.
 */
export function parseStateTransition(raw: unknown, nowMs: number): StateTransition {
  const body = asBody(raw, false);
  const from = subObject(body, 'from');
  const to = subObject(body, 'to');
  if (from.state_id === undefined) throw invalid('from.state_id is mandatory');
  const fromStateId = readInt32('from.state_id', from.state_id);
  if (to.state_type === undefined) throw invalid('to.state_type is mandatory');
  const stateType = readLongOrString('to.state_type', to.state_type);
  // the top-level timestamp is both events' time; from.timestamp (the end of the old state) and
  // to.timestamp (the start of the new one) override it for their event
  const at = eventTime(body, nowMs);
  const endAt = optional(from.timestamp, 'from.timestamp', readTimestamp) ?? at;
  const startAt = optional(to.timestamp, 'to.timestamp', readTimestamp) ?? at;
  const shared = eventFields(body);
  return {
    fromStateId,
    end: withoutUndefined({
      disposition: optional(from.disposition, 'from.disposition', readLongOrString),
      dispositionDesc: optional(from.disposition_desc, 'from.disposition_desc', readText),
      completed: { timestamp: formatTimestamp(endAt), ...shared },
      completedAt: endAt,
      extensions: new Map(),
    }),
    start: withoutUndefined({
      stateType,
      estDuration: optional(to.est_duration, 'to.est_duration', readInt32),
      started: { timestamp: formatTimestamp(startAt), ...shared, previous_state_id: fromStateId },
      startedAt: startAt,
      extensions: extensionsOf(body),
    }),
  };
}

/** PUT /services/{id}: ttl (seconds from now, re-armed by each write) or expiration_time; at least one. */
export function parseExpirationUpdate(raw: unknown): Expiry {
  const body = asBody(raw, false);
  const { expiry } = expiration(body);
  if (expiry === undefined) throw invalid('ttl or expiration_time is mandatory');
  return expiry;
}

export function parseExtensionValue(name: string, value: unknown): Extensions {
  checkExtensionName(name);
  if (value === undefined) throw invalid(`the request body must hold the new value of extension ${name}`);
  try {
    checkUnsafeKeys({ [name]: value });
  } catch (error) {
    throw invalid(`extension ${name} is refused: ${(error as Error).message}`);
  }
  return new Map([[name.toLowerCase(), { name, value }]]);
}

