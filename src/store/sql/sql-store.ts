// The one Store implementation: each method is the SQL of src/store/sql/ run by a driver — reads on
// its read connection, writes through the group commit. SqliteStore and PostgresStore only choose
// the driver (src/store/sqlite/, src/store/postgres/).
import type { Expiry } from '../../domain/expiration.js';
import type { IdentificationKey, NewIdentificationKey, ProfileData } from '../../domain/profiles.js';
import type {
  ElementEnd,
  Extensions,
  ServiceAssociation,
  ServiceRecord,
  ServiceStart,
  StateRecord,
  StateStart,
  StateTransition,
  TaskRecord,
  TaskStart,
} from '../../domain/records.js';
import type { ExtensionSchema, SchemaEntity } from '../../domain/schemas.js';
import type { EventFilter, StoredEvent } from '../../domain/event-kinds.js';
import type { DeliveryRound, DueDelivery, LoggedAttempt, Webhook, WebhookProgress } from '../../domain/webhooks.js';
import type {
  AuditRecord,
  ConnectionUse,
  ExportFilter,
  ExtensionChange,
  ExtensionOwner,
  IdempotentResponse,
  ImportOutcome,
  PurgeOperation,
  ServiceFilter,
  ServiceSearch,
  StateFilter,
  Store,
  StoreHealth,
  TaskFilter,
} from '../store.js';
import * as analytics from './analytics.js';
import * as audit from './audit.js';
import * as rollups from './rollups.js';
import type { FunnelService, ServiceHourTotals, StateHourTotals, StateQuery } from '../../domain/analytics.js';
import type { Dialect, SqlReader } from './dialect.js';
import * as elements from './elements.js';
import * as extensions from './extensions.js';
import { GroupCommit, type GroupCommitOptions, type WriteDriver } from './group-commit.js';
import * as idempotency from './idempotency.js';
import { importServices as importWrite } from './import.js';
import type { ImportBatch } from '../import-rows.js';
import * as maintenance from './maintenance.js';
import * as metadata from './metadata.js';
import * as outbox from './outbox.js';
import * as relays from './relays.js';
import * as webhooks from './webhooks.js';
import * as profiles from './profiles.js';
import * as services from './services.js';
import { applyOnly, type Write } from './write.js';
import { migrationVersions } from '../migrations.js';

export interface StoreDriver extends WriteDriver {
  readonly kind: 'sqlite' | 'postgres';
  readonly dialect: Dialect;
  /** reads outside any write: they never see a write that has not committed */
  readonly reader: SqlReader;
  /** Applies pending migrations; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** `probe`: a write through the group commit, for drivers whose health means "a write commits". */
  health(probe: <T>(write: Write<T>) => Promise<T>): Promise<StoreHealth>;
  /** Closes the connections (the group commit has drained). */
  close(): Promise<void>;
  /** a connection pool's use, where there is one */
  connections?(): ConnectionUse;
  /** Store.vacuum */
  vacuum(): Promise<{ bytesBefore: number; bytesAfter: number }>;
}

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  protected readonly commits: GroupCommit;
  private readonly d: Dialect;
  private readonly read: SqlReader;
  /** business time: expiry, idle times, records */
  private readonly clock: () => number;
  private closing?: Promise<void>;
  private readonly eventListeners: (() => void)[] = [];
  private readonly commitListeners: ((writes: number, ms: number) => void)[] = [];

  constructor(
    protected readonly driver: StoreDriver,
    options: GroupCommitOptions,
  ) {
    this.kind = driver.kind;
    this.d = driver.dialect;
    this.read = driver.reader;
    this.commits = new GroupCommit(driver, {
      ...options,
      onEvents: () => this.eventListeners.forEach((listener) => listener()),
      onCommit: (writes, ms) => this.commitListeners.forEach((listener) => listener(writes, ms)),
    });
    this.clock = options.clock;
  }

  /** Queues a write (`untracked`: not a request's own write, so no idempotent record); tests submit failing writes here. */
  submit<T>(write: Write<T>, untracked = false): Promise<T> {
    return this.commits.submit(write, untracked);
  }

  migrate(): Promise<number[]> {
    return this.driver.migrate();
  }

  health(): Promise<StoreHealth> {
    return this.driver.health((write) => this.commits.submit(write, true));
  }

  onBatchCommitted(listener: (writes: number, ms: number) => void): void {
    this.commitListeners.push(listener);
  }

  vacuum(): Promise<{ bytesBefore: number; bytesAfter: number }> {
    return this.driver.vacuum();
  }

  connections(): ConnectionUse | undefined {
    return this.driver.connections?.();
  }

  async pendingMigrations(): Promise<number[]> {
    let applied: Set<number>;
    try {
      applied = new Set((await this.read.all<{ version: unknown }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    } catch (error) {
      // a store never migrated has no schema_migrations table: everything is pending
      if (/schema_migrations/.test((error as Error).message)) applied = new Set();
      else throw error;
    }
    return migrationVersions(this.kind).filter((version) => !applied.has(version));
  }

  close(): Promise<void> {
    this.closing ??= this.commits.close().then(() => this.driver.close());
    return this.closing;
  }

  // ---- journeys ----

  startService(start: ServiceStart): Promise<bigint> {
    return this.submit(services.startService(this.d, start));
  }
  endService(serviceId: bigint, end: ElementEnd): Promise<void> {
    return this.submit(services.endService(this.d, serviceId, end));
  }
  associateService(serviceId: bigint, customerId: string, association: ServiceAssociation): Promise<void> {
    return this.submit(services.associateService(this.d, serviceId, customerId, association));
  }
  updateServiceExpiration(serviceId: bigint, expiry: Expiry): Promise<void> {
    return this.submit(services.updateServiceExpiration(this.d, serviceId, expiry));
  }
  deleteService(serviceId: bigint): Promise<void> {
    return this.submit(services.deleteService(this.d, serviceId));
  }
  getService(serviceId: bigint): Promise<ServiceRecord | undefined> {
    return services.getService(this.read, serviceId, this.clock());
  }
  listServices(filter: ServiceFilter): Promise<ServiceRecord[]> {
    return services.listServices(this.read, this.d, filter, this.clock());
  }
  searchServices(search: ServiceSearch): Promise<ServiceRecord[]> {
    return services.searchServices(this.read, this.d, search, this.clock());
  }
  importServices(batch: ImportBatch, owns: (serviceId: bigint) => boolean): Promise<ImportOutcome[]> {
    return this.submit(importWrite(this.d, batch, owns));
  }
  async readSetting(name: string): Promise<string | undefined> {
    return (await this.read.one<{ value: string }>('SELECT value FROM settings WHERE name = ?', [name]))?.value;
  }

  startState(serviceId: bigint, start: StateStart): Promise<number> {
    return this.submit(elements.startState(this.d, serviceId, start));
  }
  endState(serviceId: bigint, stateId: number, end: ElementEnd): Promise<void> {
    return this.submit(elements.endElement(this.d, 'state', serviceId, stateId, end));
  }
  transitionState(serviceId: bigint, transition: StateTransition): Promise<number> {
    return this.submit(elements.transitionState(this.d, serviceId, transition));
  }
  getState(serviceId: bigint, stateId: number): Promise<StateRecord | undefined> {
    return elements.getState(this.read, serviceId, stateId);
  }
  listStates(filter: StateFilter): Promise<StateRecord[]> {
    return elements.listStates(this.read, this.d, filter);
  }

  startTask(serviceId: bigint, start: TaskStart): Promise<number> {
    return this.submit(elements.startTask(this.d, serviceId, start));
  }
  endTask(serviceId: bigint, taskId: number, end: ElementEnd): Promise<void> {
    return this.submit(elements.endElement(this.d, 'task', serviceId, taskId, end));
  }
  getTask(serviceId: bigint, taskId: number): Promise<TaskRecord | undefined> {
    return elements.getTask(this.read, serviceId, taskId);
  }
  listTasks(filter: TaskFilter): Promise<TaskRecord[]> {
    return elements.listTasks(this.read, this.d, filter);
  }

  putExtensions(owner: ExtensionOwner, change: Extensions | ExtensionChange): Promise<void> {
    return this.submit(extensions.putExtensions(this.d, owner, change));
  }
  loadExtensions(kind: ExtensionOwner['kind'], ids: (bigint | number)[]): Promise<Map<string, Extensions>> {
    return extensions.loadExtensions(this.read, this.d, kind, ids);
  }

  // ---- metadata ----

  createExtensionSchema(entity: SchemaEntity, schema: ExtensionSchema): Promise<void> {
    return this.submit(metadata.createExtensionSchema(this.d, entity, schema));
  }
  listExtensionSchemas(entity: SchemaEntity): Promise<ExtensionSchema[]> {
    return metadata.listExtensionSchemas(this.read, entity);
  }
  deleteExtensionSchema(entity: SchemaEntity, name: string): Promise<void> {
    return this.submit(metadata.deleteExtensionSchema(this.d, entity, name));
  }
  createIdentificationKey(key: NewIdentificationKey): Promise<IdentificationKey> {
    return this.submit(metadata.createIdentificationKey(this.d, key));
  }
  listIdentificationKeys(): Promise<IdentificationKey[]> {
    return metadata.readKeys(this.read);
  }
  deleteIdentificationKey(name: string): Promise<void> {
    return this.submit(metadata.deleteIdentificationKey(this.d, name));
  }

  // ---- profiles ----

  createProfile(profile: ProfileData): Promise<void> {
    return this.submit(profiles.createProfile(this.d, profile));
  }
  updateProfile(customerId: string, change: (current: ProfileData) => ProfileData): Promise<void> {
    return this.submit(profiles.updateProfile(this.d, customerId, change));
  }
  getProfiles(customerIds: string[]): Promise<ProfileData[]> {
    return profiles.readProfiles(this.read, this.d, customerIds);
  }
  deleteProfile(customerId: string): Promise<void> {
    return this.submit(profiles.deleteProfile(this.d, customerId));
  }
  findCustomers(keyId: number, text: string, exact: boolean): Promise<string[]> {
    return profiles.findCustomers(this.read, keyId, text, exact);
  }

  // ---- the outbox ----

  readEvents(filter: EventFilter, afterId: number, limit: number): Promise<StoredEvent[]> {
    return outbox.readEvents(this.read, this.d, filter, afterId, limit);
  }
  lastEventId(): Promise<number> {
    return outbox.lastEventId(this.read);
  }
  trimEvents(before: number, batchSize: number): Promise<number> {
    return this.submit(applyOnly((tx) => outbox.trimEvents(tx, before, batchSize)));
  }
  onEventsCommitted(listener: () => void): void {
    this.eventListeners.push(listener);
  }
  claimRelay(relay: string, holder: string, leaseMs: number): Promise<number | undefined> {
    return this.submit(relays.claimRelay(relay, holder, leaseMs), true);
  }
  advanceRelay(relay: string, holder: string, lastId: number, leaseMs: number): Promise<boolean> {
    return this.submit(relays.advanceRelay(relay, holder, lastId, leaseMs), true);
  }
  releaseRelay(relay: string, holder: string): Promise<void> {
    return this.submit(relays.releaseRelay(relay, holder), true);
  }

  // ---- analytics ----

  liveCounts(of: 'services' | 'states'): Promise<{ type: string | null; count: number; oldest: number }[]> {
    return analytics.liveCounts(this.read, of);
  }
  liveMedian(of: 'services' | 'states', types: readonly (string | null)[], count: number): Promise<number> {
    return analytics.liveMedian(this.read, of, types, count);
  }

  stateHourTotals(query: StateQuery): Promise<StateHourTotals[]> {
    return rollups.stateHourTotals(this.read, this.d, query);
  }
  funnelPage(serviceTypes: readonly string[], from: number, to: number, after: { startedAt: number; id: bigint } | undefined, limit: number): Promise<FunnelService[]> {
    return analytics.funnelPage(this.read, this.d, serviceTypes, from, to, after, limit);
  }
  serviceHourTotals(query: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes'>): Promise<ServiceHourTotals[]> {
    return rollups.serviceHourTotals(this.read, this.d, query);
  }

  // ---- webhooks ----

  createWebhook(webhook: Webhook, maxPerPartition: number): Promise<void> {
    return this.submit(webhooks.createWebhook(webhook, maxPerPartition));
  }
  listWebhooks(): Promise<Webhook[]> {
    return webhooks.listWebhooks(this.read);
  }
  getWebhook(id: string): Promise<Webhook | undefined> {
    return webhooks.getWebhook(this.read, id);
  }
  deleteWebhook(id: string): Promise<boolean> {
    return this.submit(webhooks.deleteWebhook(id));
  }
  recordDeliveryRound(webhookId: string, round: DeliveryRound): Promise<void> {
    return this.submit(webhooks.recordRound(this.d, webhookId, round), true);
  }
  pendingDeliveryKeys(webhookId: string, keys: readonly string[]): Promise<Set<string>> {
    return webhooks.pendingKeys(this.read, this.d, webhookId, keys);
  }
  dueDeliveries(webhookId: string, now: number, limit: number): Promise<DueDelivery[]> {
    return webhooks.dueDeliveries(this.read, webhookId, now, limit);
  }
  nextDeliveryDueAt(webhookId: string): Promise<number | undefined> {
    return webhooks.nextDueAt(this.read, webhookId);
  }
  webhookProgress(webhookId: string): Promise<WebhookProgress> {
    return webhooks.webhookProgress(this.read, webhookId);
  }
  listDeliveries(webhookId: string, beforeId: number | undefined, limit: number): Promise<LoggedAttempt[]> {
    return webhooks.listDeliveries(this.read, webhookId, beforeId, limit);
  }
  replayWebhook(webhookId: string, fromEventId: number): Promise<void> {
    return this.submit(webhooks.replayWebhook(webhookId, fromEventId));
  }
  trimDeliveries(before: number, batchSize: number): Promise<number> {
    return this.submit(webhooks.trimDeliveries(before, batchSize));
  }

  // ---- maintenance ----

  async purgeServices(operation: PurgeOperation, before: number, batchSize = 1000, onBatch?: (purgedSoFar: number) => void): Promise<number> {
    let purged = 0;
    for (;;) {
      // one bounded transaction per batch: requests keep flowing between batches
      const n = await this.submit(maintenance.purgeBatch(this.d, operation, before, batchSize));
      purged += n;
      onBatch?.(purged);
      if (n < batchSize) return purged;
    }
  }
  countPurgeable(operation: PurgeOperation, before: number): Promise<number> {
    return maintenance.countPurgeable(this.read, operation, before);
  }
  exportPage(filter: ExportFilter, afterId: bigint, pageSize: number): Promise<ServiceRecord[]> {
    return maintenance.exportPage(this.read, filter, afterId, pageSize, this.clock());
  }
  sweepExpired(batchSize: number): Promise<{ expired: number; examined: number }> {
    return this.submit(maintenance.sweepExpired(this.d, batchSize));
  }
  autoCompleteIdle(defaultAfterMs: number | undefined, batchSize: number): Promise<number> {
    return this.submit(maintenance.autoCompleteIdle(this.d, defaultAfterMs, batchSize));
  }
  foldRollups(batchSize: number): Promise<{ folded: number; examined: number }> {
    return this.submit(applyOnly((tx) => rollups.foldRollups(tx, this.d, batchSize)));
  }

  // ---- idempotent retries ----

  getIdempotentResponse(key: string, notBefore: number): Promise<IdempotentResponse | undefined> {
    return idempotency.getIdempotentResponse(this.read, key, notBefore);
  }
  saveIdempotentResponse(response: IdempotentResponse, replaceBefore: number): Promise<void> {
    return this.submit(
      applyOnly((tx) => idempotency.upsertIdempotent(tx, { ...response, replaceBefore })),
      true,
    );
  }
  sweepIdempotentResponses(before: number, batchSize: number): Promise<number> {
    return this.submit(applyOnly((tx) => idempotency.sweepIdempotent(tx, before, batchSize)));
  }

  // ---- privacy and audit ----

  eraseCustomer(customerId: string, record: Omit<AuditRecord, 'counts'>): Promise<{ profile: number; services: number }> {
    return this.submit(maintenance.eraseCustomer(this.d, customerId, record));
  }
  appendAudit(record: AuditRecord): Promise<void> {
    return this.submit(applyOnly((tx) => audit.insertAudit(tx, record)));
  }
  listAudit(limit: number): Promise<AuditRecord[]> {
    return audit.listAudit(this.read, limit);
  }
}
