// Lifecycle rules that every store applies inside its transaction: what an end, an association or an
// extension write does to an element's stored document.
import { alreadyCompleted, type ElementKind } from './errors.js';
import type { LongOrString } from './fields.js';
import type { ElementEnd, EventData, ServiceAssociation } from './records.js';

/** The typed part of an element as stored (ids, owner keys and times live in indexed columns). */
export interface ElementDoc {
  type?: LongOrString;
  est_duration?: number;
  disposition?: LongOrString;
  disposition_desc?: string;
  started: EventData;
  completed?: EventData;
}

/** Ending an element that is already completed is a conflict and changes nothing (spec: 409). */
export function completeDoc(kind: ElementKind, id: bigint | number, doc: ElementDoc, end: ElementEnd): ElementDoc {
  if (doc.completed) throw alreadyCompleted(kind, id);
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
