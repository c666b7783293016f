// The storage contract, in domain words, split by role (journeys, metadata, profiles, maintenance,
// idempotency, audit, events); `Store` is all of them. One implementation (sql/sql-store.ts) runs on
// SQLite (embedded default) and PostgreSQL (shared by several nodes). Methods throw DomainError
// (NotFound, Conflict, Validation, Unavailable); they never see HTTP. Each role has its contract file
// under test/store/.
import type {
  ElementEnd,
  ElementStatus,
  Extensions,
  ServiceAssociation,
  ServiceRecord,
  ServiceStart,
  StateRecord,
  StateStart,
  StateTransition,
  TaskRecord,
  TaskStart,
} from '../domain/records.js';
import type { IdentificationKey, NewIdentificationKey, ProfileData } from '../domain/profiles.js';
import type { ExtensionSchema, ExtensionValueFilter, SchemaEntity } from '../domain/schemas.js';
import type { EventFilter, StoredEvent } from '../domain/event-kinds.js';
import type { ExportFilter, PurgeOperation } from '../domain/maintenance.js';
import type { ImportBatch } from './import-rows.js';
import type { Expiry } from '../domain/expiration.js';
import type { FunnelService, ServiceHourTotals, StateHourTotals, StateQuery } from '../domain/analytics.js';
import type { DeliveryRound, DueDelivery, LoggedAttempt, Webhook, WebhookProgress } from '../domain/webhooks.js';
export type { ExportFilter, PurgeOperation };

/** Where a page ends: a row's start time (epoch ms) and its id, the order every list and the search sort by. */
export interface Position {
  startedAt: number;
  id: bigint;
}

export interface ServiceFilter {
  /** services of this customer */
  customerId?: string;
  /** anonymous services (no customer_id) with this contact key */
  contactKey?: string;
  status: ElementStatus;
  /** text forms of service_type values; empty = any */
  serviceTypes: string[];
  /** epoch ms, inclusive */
  startedFrom?: number;
  /** epoch ms, exclusive */
  startedTo?: number;
  /** the page starts after this service (a cursor) */
  after?: Position;
  limit?: number;
  offset?: number;
}

/** GET /services/search: services of any owner, newest first, a page after a position. */
export interface ServiceSearch extends Pick<ServiceFilter, 'customerId' | 'status' | 'serviceTypes' | 'startedFrom' | 'startedTo'> {
  /** services started with this contact key, anonymous or associated since */
  contactKey?: string;
  /** completed in [completedFrom, completedTo) */
  completedFrom?: number;
  completedTo?: number;
  /** with one of these dispositions (text form) */
  dispositions: string[];
  /** that have (or had) a state of one of these types */
  stateTypes: string[];
  /** holding each of these values in a searchable extension attribute (of the service, a state or a task) */
  extensions: ExtensionValueFilter[];
  /** the page starts after this service (in newest-first order) */
  after?: Position;
  limit: number;
}

export interface StateFilter {
  serviceIds: bigint[];
  status: ElementStatus;
  stateTypes: string[];
  /** the page starts after this state (a cursor) */
  after?: Position;
  limit?: number;
  offset?: number;
}

export interface TaskFilter {
  serviceIds: bigint[];
  status: ElementStatus;
  taskTypes: string[];
  /** only tasks of this state */
  stateId?: number;
  /** the page starts after this task (a cursor) */
  after?: Position;
  limit?: number;
  offset?: number;
}

/** What became of one record of a bulk import. */
export type ImportOutcome =
  | { status: 'imported'; sourceId?: string; serviceId: bigint; /** it could not keep the file's id */ remapped: boolean }
  /** imported before (the same content): not again */
  | { status: 'present'; sourceId?: string; serviceId: bigint }
  /** the same content earlier in the same batch */
  | { status: 'duplicate'; sourceId?: string };

/** Computes the extensions to write from the stored ones (pure; may throw a DomainError). */
export type ExtensionChange = (current: Extensions) => Extensions;

export type ExtensionOwner =
  | { kind: 'service'; serviceId: bigint }
  | { kind: 'state'; serviceId: bigint; id: number }
  | { kind: 'task'; serviceId: bigint; id: number };

export interface AuditRecord {
  id?: number;
  at: number;
  actor: string;
  action: 'customer.erase' | 'customer.export' | 'services.purge' | 'services.export' | 'services.import';
  subject?: string;
  counts: Record<string, number>;
}

/** The first answer to a request that carried an Idempotency-Key. */
export interface IdempotentResponse {
  key: string;
  /** method, path and body digest of the request */
  fingerprint: string;
  status: number;
  location?: string;
  body: string;
  /** epoch ms */
  createdAt: number;
}

export interface StoreHealth {
  kind: 'sqlite' | 'postgres';
  ok: boolean;
  detail?: string;
}

export interface ConnectionUse {
  /** connections open */
  total: number;
  /** of those, not in use */
  idle: number;
  /** requests for a connection waiting for one */
  waiting: number;
}

/** Opening, health and closing of a store. */
export interface StoreLifecycle {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations; returns the versions applied. */
  migrate(): Promise<number[]>;
  health(): Promise<StoreHealth>;
  /** The migrations this build has that the store has not applied (a read; throws when the store cannot be reached). */
  pendingMigrations(): Promise<number[]>;
  /** Calls `listener` after each group commit of this store (on this node): its writes, and its transaction's time in ms. */
  onBatchCommitted(listener: (writes: number, ms: number) => void): void;
  /** The connection pool's use (PostgreSQL); undefined where there is none. */
  connections(): ConnectionUse | undefined;
  /**
   * Gives back the room deleted rows left: SQLite rewrites the file (VACUUM; writes wait meanwhile) and
   * empties the WAL, so the file shrinks; PostgreSQL vacuums the store's tables (VACUUM (ANALYZE): the
   * room is reused by later writes, the files keep their size). Returns the store's bytes before and after.
   */
  vacuum(): Promise<{ bytesBefore: number; bytesAfter: number }>;
  /** Finishes pending writes, then closes. */
  close(): Promise<void>;
}

/** Services, their states and tasks, and the extensions of all three. */
export interface JourneyStore {
  startService(start: ServiceStart): Promise<bigint>;
  endService(serviceId: bigint, end: ElementEnd): Promise<void>;
  associateService(serviceId: bigint, customerId: string, association: ServiceAssociation): Promise<void>;
  /** Applies a ttl (re-armed by every write) or an expiration_time (fixed). */
  updateServiceExpiration(serviceId: bigint, expiry: Expiry): Promise<void>;
  /** Deletes the service with its states, tasks and extensions. */
  deleteService(serviceId: bigint): Promise<void>;
  getService(serviceId: bigint): Promise<ServiceRecord | undefined>;
  listServices(filter: ServiceFilter): Promise<ServiceRecord[]>;
  /** Services newest first (started_at, then service_id, descending). */
  searchServices(search: ServiceSearch): Promise<ServiceRecord[]>;
  /** Bulk import: whole services (checked before, their rows built) in one transaction; ids kept when free and `owns` them. */
  importServices(batch: ImportBatch, owns: (serviceId: bigint) => boolean): Promise<ImportOutcome[]>;
  /** A value of the store's settings table (made by migrations), e.g. the cursor-signing key. */
  readSetting(name: string): Promise<string | undefined>;

  startState(serviceId: bigint, start: StateStart): Promise<number>;
  endState(serviceId: bigint, stateId: number, end: ElementEnd): Promise<void>;
  transitionState(serviceId: bigint, transition: StateTransition): Promise<number>;
  getState(serviceId: bigint, stateId: number): Promise<StateRecord | undefined>;
  listStates(filter: StateFilter): Promise<StateRecord[]>;

  startTask(serviceId: bigint, start: TaskStart): Promise<number>;
  endTask(serviceId: bigint, taskId: number, end: ElementEnd): Promise<void>;
  getTask(serviceId: bigint, taskId: number): Promise<TaskRecord | undefined>;
  listTasks(filter: TaskFilter): Promise<TaskRecord[]>;

  /**
   * Creates or replaces extensions of one element (the owner must exist: NotFound otherwise). Given a
   * change, it is called inside the write with the element's stored extensions and returns what to write (it may throw).
   */
  putExtensions(owner: ExtensionOwner, extensions: Extensions | ExtensionChange): Promise<void>;
  /** All extensions of the given elements of one kind, by element id (service ids as decimal text). */
  loadExtensions(kind: ExtensionOwner['kind'], ids: (bigint | number)[]): Promise<Map<string, Extensions>>;
}

/** Extension schemas and identification keys. */
export interface MetadataStore {
  /** Validation error when a schema of that name exists for the entity. */
  createExtensionSchema(entity: SchemaEntity, schema: ExtensionSchema): Promise<void>;
  listExtensionSchemas(entity: SchemaEntity): Promise<ExtensionSchema[]>;
  /** Profile extensions: also deletes the records; refused (Validation) while a key uses it. */
  deleteExtensionSchema(entity: SchemaEntity, name: string): Promise<void>;
  /** Creates the key and indexes every existing profile under it (Validation on a duplicate for unique keys). */
  createIdentificationKey(key: NewIdentificationKey): Promise<IdentificationKey>;
  listIdentificationKeys(): Promise<IdentificationKey[]>;
  deleteIdentificationKey(name: string): Promise<void>;
}

/** Customer profiles and identification by key. */
export interface ProfileStore {
  /** Validation error when the customer_id is taken or a unique key value belongs to another customer. */
  createProfile(profile: ProfileData): Promise<void>;
  /** Reads the profile, applies `change` (pure; may throw), re-indexes and writes, in one transaction. */
  updateProfile(customerId: string, change: (current: ProfileData) => ProfileData): Promise<void>;
  getProfiles(customerIds: string[]): Promise<ProfileData[]>;
  deleteProfile(customerId: string): Promise<void>;
  /** Customers whose index entry for the key equals `text` (exact) or starts with it. */
  findCustomers(keyId: number, text: string, exact: boolean): Promise<string[]>;
}

/** The outbox: each committed write's events, in commit order (src/store/sql/outbox.ts). */
export interface EventLog {
  /** The events after `afterId` that match, oldest first, at most `limit`. */
  readEvents(filter: EventFilter, afterId: number, limit: number): Promise<StoredEvent[]>;
  /** The newest committed event's id (0 before the first). */
  lastEventId(): Promise<number>;
  /** Deletes events recorded before `before` (epoch ms), at most `batchSize`; returns how many. */
  trimEvents(before: number, batchSize: number): Promise<number>;
  /** Calls `listener` after each commit of this store (on this node) that appended events. */
  onEventsCommitted(listener: () => void): void;
}

/** Where each relay (NATS, webhooks) is in the outbox, and which node holds it (src/store/sql/relays.ts). */
export interface RelayLog {
  /** Takes or renews the relay's lease for `holder`; its position if `holder` holds it, else undefined. */
  claimRelay(relay: string, holder: string, leaseMs: number): Promise<number | undefined>;
  /** Moves the position to `lastId` and renews the lease; false when the lease was lost. */
  advanceRelay(relay: string, holder: string, lastId: number, leaseMs: number): Promise<boolean>;
  /** Gives the lease up. */
  releaseRelay(relay: string, holder: string): Promise<void>;
}

/** Webhooks, their retry queue and their delivery log (src/store/sql/webhooks.ts). */
export interface WebhookStore {
  /** Validation error beyond `maxPerPartition`; the webhook delivers what commits after it. */
  createWebhook(webhook: Webhook, maxPerPartition: number): Promise<void>;
  listWebhooks(): Promise<Webhook[]>;
  getWebhook(id: string): Promise<Webhook | undefined>;
  /** false when there was none */
  deleteWebhook(id: string): Promise<boolean>;
  /** Records one round of deliveries (attempts, queued, rescheduled and settled events) in one transaction. */
  recordDeliveryRound(webhookId: string, round: DeliveryRound): Promise<void>;
  /** Which of these ordering keys have an event waiting. */
  pendingDeliveryKeys(webhookId: string, keys: readonly string[]): Promise<Set<string>>;
  /** Queued events due at `now`, each the head of its key, at most `limit`. */
  dueDeliveries(webhookId: string, now: number, limit: number): Promise<DueDelivery[]>;
  /** When the next queued event is due (undefined when none is). */
  nextDeliveryDueAt(webhookId: string): Promise<number | undefined>;
  webhookProgress(webhookId: string): Promise<WebhookProgress>;
  /** Attempts, newest first, before the attempt `beforeId`. */
  listDeliveries(webhookId: string, beforeId: number | undefined, limit: number): Promise<LoggedAttempt[]>;
  /** Sends again from `fromEventId` on. */
  replayWebhook(webhookId: string, fromEventId: number): Promise<void>;
  /** Deletes attempts logged before `before`, at most `batchSize`; returns how many. */
  trimDeliveries(before: number, batchSize: number): Promise<number>;
}

/** Journey analytics (src/store/sql/analytics.ts). */
export interface AnalyticsStore {
  /** Active services (by service type) or waiting states (by state type): each type's count and oldest start, largest first. */
  liveCounts(of: 'services' | 'states'): Promise<{ type: string | null; count: number; oldest: number }[]>;
  /** The median start of the rows of these types, which together count `count`. */
  liveMedian(of: 'services' | 'states', types: readonly (string | null)[], count: number): Promise<number>;
  /** Time in state over an hour-aligned window: per state type (and group), counts, duration sum, max and bins. */
  stateHourTotals(query: StateQuery): Promise<StateHourTotals[]>;
  /** One page of the services of these types started in [from, to), in start order after `after`, with their states (the funnel walks them). */
  funnelPage(serviceTypes: readonly string[], from: number, to: number, after: { startedAt: number; id: bigint } | undefined, limit: number): Promise<FunnelService[]>;
  /** Outcomes over an hour-aligned window: per service type and disposition, counts, duration sum, max and bins. */
  serviceHourTotals(query: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes'>): Promise<ServiceHourTotals[]>;
}

/** Wake-ups between nodes (PostgreSQL only: LISTEN/NOTIFY); absent on stores that serve one node. */
export interface EventTransport {
  /** Sends an event payload to every node. */
  publishEvent?(payload: string): Promise<void>;
  /** Receives every node's event payloads, reconnecting by itself. */
  subscribeEvents?(handler: (payload: string) => void): Promise<void>;
}

/** Purges, exports, expiry, auto-complete and erasure. */
export interface MaintenanceStore {
  /** Deletes the matching services with their states, tasks and extensions, in bounded batches; returns how many. */
  /** `onBatch`: after each committed batch, the count purged so far. */
  purgeServices(operation: PurgeOperation, before: number, batchSize?: number, onBatch?: (purgedSoFar: number) => void): Promise<number>;
  /** How many services a purge would delete now (purge --dry-run). */
  countPurgeable(operation: PurgeOperation, before: number): Promise<number>;
  /** One page of matching services after `afterId`, by id: the export walks them in constant memory. */
  exportPage(filter: ExportFilter, afterId: bigint, pageSize: number): Promise<ServiceRecord[]>;
  /** Deletes expired services (with everything in them), looking at most at `batchSize`; returns how many it deleted and looked at (fewer than `batchSize`: done). */
  sweepExpired(batchSize: number): Promise<{ expired: number; examined: number }>;
  /**
   * Adds the rollup deltas of up to `batchSize` events after the fold's position to the rollup rows
   * and moves the position past them; returns how many events carried deltas and how many it looked
   * at (fewer than `batchSize`: caught up). Reports are exact either way; folding keeps their tail short.
   */
  foldRollups(batchSize: number): Promise<{ folded: number; examined: number }>;
  /**
   * Completes active services idle for their `auto_complete_after` (or `defaultAfterMs` when they
   * have none and it is given), with their active states and tasks; at most `batchSize`.
   */
  autoCompleteIdle(defaultAfterMs: number | undefined, batchSize: number): Promise<number>;
  /** Erases the profile and every service (with states, tasks, extensions) of a customer, in one transaction; writes the audit record in it. */
  eraseCustomer(customerId: string, audit: Omit<AuditRecord, 'counts'>): Promise<{ profile: number; services: number }>;
}

/** Recorded answers to requests that carried an Idempotency-Key. */
export interface IdempotencyStore {
  /** The recorded answer for an Idempotency-Key, if any was recorded at or after `notBefore` (epoch ms). */
  getIdempotentResponse(key: string, notBefore: number): Promise<IdempotentResponse | undefined>;
  /** Records an answer; the first one recorded for a key stays, unless it was recorded before `replaceBefore` (expired). */
  saveIdempotentResponse(response: IdempotentResponse, replaceBefore: number): Promise<void>;
  /** Deletes answers recorded before `before` (epoch ms), at most `batchSize`; returns how many. */
  sweepIdempotentResponses(before: number, batchSize: number): Promise<number>;
}

/** Who erased, exported or purged what, and when. */
export interface AuditLog {
  appendAudit(record: AuditRecord): Promise<void>;
  /** Newest first. */
  listAudit(limit: number): Promise<AuditRecord[]>;
}

/** Every role of a store, as one object (each partition has one). */
export type Store = StoreLifecycle & JourneyStore & MetadataStore & ProfileStore & EventLog & RelayLog & WebhookStore & AnalyticsStore & EventTransport & MaintenanceStore & IdempotencyStore & AuditLog;
