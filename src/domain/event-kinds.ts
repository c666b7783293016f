// What a committed write says happened: its kind and the few ids it concerns. A write appends its
// events to its partition's outbox in its own transaction (src/store/sql/outbox.ts), so an event
// exists exactly when its write committed; the stream (GET /events), and later webhooks and NATS,
// read them from there. Payloads stay small: ids, kinds and names, never extension values.

export const EVENT_KINDS = [
  'service.started',
  'service.ended',
  'service.associated',
  'service.deleted',
  'service.expiration',
  'service.extension',
  'state.started',
  'state.ended',
  'state.transition',
  'state.extension',
  'task.started',
  'task.ended',
  'task.extension',
  'profile.created',
  'profile.updated',
  'profile.deleted',
  'customer.erased',
  'metadata.created',
  'metadata.deleted',
  'maintenance.purged',
  'maintenance.expired',
  'maintenance.auto-completed',
  'maintenance.imported',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** The ids and names an event carries besides its service and owner. */
export interface EventDetails {
  state_id?: number;
  from_state_id?: number;
  task_id?: number;
  /** the extension written (service, state and task extension events) */
  extension?: string;
  /** how many services a maintenance event or an erase concerned */
  purged?: number;
  /** how many services a batch of a bulk import added (maintenance.imported) */
  imported?: number;
  /** metadata events: what was created or deleted, and its name */
  entity?: string;
  name?: string;
}

/** An event a write records, in its transaction, with the owner (customer, contact key) the service had when the write was planned. */
export interface EventDraft {
  kind: EventKind;
  serviceId?: bigint;
  customerId?: string;
  contactKey?: string;
  /** the text form of the service's service_type */
  serviceType?: string;
  details?: EventDetails;
}

/** An event as the outbox holds it: `id` increases with commit order within a partition, the same on every node. */
export interface StoredEvent {
  id: number;
  /** epoch ms: the business time of the write */
  at: number;
  kind: EventKind;
  serviceId?: bigint;
  customerId?: string;
  contactKey?: string;
  serviceType?: string;
  details: EventDetails;
}

/** Which events a reader wants (all of them when empty). */
export interface EventFilter {
  customerId?: string;
  contactKey?: string;
  serviceId?: bigint;
  kinds?: readonly EventKind[];
}
