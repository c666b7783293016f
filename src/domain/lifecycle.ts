// Lifecycle rules that every store applies inside its transaction: what an end, an association or an
// extension write does to an element's stored document.
import { alreadyCompleted, invalid, type ElementKind } from './errors.js';
import type { LongOrString } from './fields.js';
import type { ElementEnd, EventData, Extensions, ServiceAssociation } from './records.js';

/** The typed part of an element as stored (ids, owner keys and times live in indexed columns). */
export interface ElementDoc {
  type?: LongOrString;
  est_duration?: number;
  disposition?: LongOrString;
  disposition_desc?: string;
  started: EventData;
  completed?: EventData;
}

/**
 * Ending an element that is already completed is a conflict and changes nothing (spec: 409); an end
 * before the element's start would give a negative duration and is refused (400).
 */
export function completeDoc(kind: ElementKind, id: bigint | number, doc: ElementDoc, end: ElementEnd): ElementDoc {
  if (doc.completed) throw alreadyCompleted(kind, id);
  if (!end.automatic && end.completedAt < Date.parse(doc.started.timestamp)) {
    throw invalid(`the end timestamp ${end.completed.timestamp} of ${kind} ${id} is earlier than its start timestamp ${doc.started.timestamp}`);
  }
  const next: ElementDoc = { ...doc, completed: end.completed };
  if (end.disposition !== undefined) next.disposition = end.disposition;
  if (end.dispositionDesc !== undefined) next.disposition_desc = end.dispositionDesc;
  return next;
}

/** Associate may also update start-event fields and the service type; the last value wins. */
export function associateDoc(doc: ElementDoc, association: ServiceAssociation): ElementDoc {
  const next: ElementDoc = { ...doc, started: { ...doc.started, ...association.startedPatch } };
  if (association.serviceType !== undefined) next.type = association.serviceType;
  if (association.disposition !== undefined) next.disposition = association.disposition;
  if (association.dispositionDesc !== undefined) next.disposition_desc = association.dispositionDesc;
  return next;
}

/**
 * Merge Extension Data (PUT …/extensions/{name}/merge): the body's keys are added to the stored
 * extension object or replace its keys of the same name (a shallow merge; other keys stay); an
 * extension not stored yet is created. A multi-valued (array) or scalar extension cannot be merged:
 * 400, nothing written.
 */
export function mergeExtensions(current: Extensions, patch: Extensions): Extensions {
  const merged: Extensions = new Map();
  for (const [key, { name, value }] of patch) {
    if (!isPlainObject(value)) throw invalid(`the body of a merge into extension ${name} must be a JSON object`);
    const stored = current.get(key);
    if (stored === undefined) {
      merged.set(key, { name, value });
      continue;
    }
    if (Array.isArray(stored.value)) throw invalid(`extension ${stored.name} is multi-valued (an array): merge works on single-valued (object) extensions; PUT replaces the whole value`);
    if (!isPlainObject(stored.value)) throw invalid(`extension ${stored.name} holds a ${stored.value === null ? 'null' : typeof stored.value}, not an object: merge needs an object; PUT replaces the whole value`);
    merged.set(key, { name, value: { ...stored.value, ...value } });
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
