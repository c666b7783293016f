// The journey's entities as the domain and the stores see them. Wire shapes live in present.ts.
import type { Expiry } from './expiration.js';
import type { LongOrString } from './fields.js';

/** The `started` / `completed` object of an element, as stored and as shown. */
export interface EventData {
  timestamp: string;
  session_id?: string;
  interaction_id?: string;
  application_type?: LongOrString;
  application_id?: number;
  resource_type?: LongOrString;
  resource_id?: number;
  media_type?: LongOrString;
  /** states only */
  previous_state_id?: number;
  /** services only */
  ttl?: number;
  expiration_time?: string;
  auto_complete_after?: number;
}

export interface ExtensionValue {
  /** the name as last written (names compare case-insensitively) */
  name: string;
  value: unknown;
  /** the values of its schema's searchable attributes, when its schema has any: the write replaces the element's indexed values of this extension with these */
  indexed?: IndexedValue[];
}

/** A searchable attribute's value as the search index keeps it: text for strings and booleans, a number otherwise (dates and date-times in epoch ms). */
export interface IndexedValue {
  /** lower-cased */
  attribute: string;
  text?: string;
  number?: number | bigint;
}

/** Keyed by the lower-cased extension name. */
export type Extensions = Map<string, ExtensionValue>;

export interface ElementFields {
  estDuration?: number;
  disposition?: LongOrString;
  dispositionDesc?: string;
  started: EventData;
  completed?: EventData;
  /** epoch ms of started.timestamp / completed.timestamp */
  startedAt: number;
  completedAt?: number;
}

export interface ServiceRecord extends ElementFields {
  serviceId: bigint;
  customerId?: string;
  contactKey?: string;
  serviceType?: LongOrString;
  expiresAt?: number;
}

export interface StateRecord extends ElementFields {
  serviceId: bigint;
  stateId: number;
  stateType?: LongOrString;
}

export interface TaskRecord extends ElementFields {
  serviceId: bigint;
  taskId: number;
  stateId?: number;
  taskType?: LongOrString;
}

// ---- what a write carries (produced by events.ts, consumed by the stores) ----

export interface ServiceStart {
  customerId?: string;
  contactKey?: string;
  serviceType: LongOrString;
  estDuration?: number;
  disposition?: LongOrString;
  dispositionDesc?: string;
  started: EventData;
  startedAt: number;
  /** from ttl / expiration_time on the event; the server fills in the default rule */
  expiry?: Expiry;
  extensions: Extensions;
}

export interface ElementEnd {
  disposition?: LongOrString;
  dispositionDesc?: string;
  completed: EventData;
  completedAt: number;
  /** service end only: ttl / expiration_time given on the end event */
  expiry?: Expiry;
  extensions: Extensions;
  /** an end the server makes (auto-complete): never refused for coming before a start in the future */
  automatic?: boolean;
}

export interface ServiceAssociation {
  serviceType?: LongOrString;
  disposition?: LongOrString;
  dispositionDesc?: string;
  /** start-event fields to overwrite in `started` */
  startedPatch: Partial<EventData>;
  extensions: Extensions;
}

export interface StateStart {
  stateType: LongOrString;
  estDuration?: number;
  started: EventData;
  startedAt: number;
  extensions: Extensions;
}

export interface StateTransition {
  fromStateId: number;
  end: ElementEnd;
  /** started.previous_state_id is fromStateId */
  start: StateStart;
}

export interface TaskStart {
  taskType?: LongOrString;
  stateId?: number;
  estDuration?: number;
  started: EventData;
  startedAt: number;
  extensions: Extensions;
}

export type ElementStatus = 'all' | 'active' | 'completed';
