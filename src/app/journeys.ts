// The journey operations of one partition. Each takes a parsed command (src/domain/events.ts) and
// runs the steps in the one order that is right: the business-attribute check, the extension
// schemas, then the store write (which checks before it writes, and appends its events to the
// outbox in its transaction) — so a route is params → parse → call → status, and no route can leave
// a step out or put it after the write.
import type { BusinessAttributeCatalog } from '../domain/business-attributes.js';
import type { LongOrString } from '../domain/fields.js';
import { mergeExtensions } from '../domain/lifecycle.js';
import type { ElementEnd, Extensions, ServiceAssociation, ServiceStart, StateStart, StateTransition, TaskStart } from '../domain/records.js';
import type { Expiry } from '../domain/expiration.js';
import type { Partition } from '../domain/tenancy.js';
import type { ExtensionOwner, Store } from '../store/store.js';
import type { ExtensionSchemaCache } from './extension-schemas.js';

/** What the operations work with: one partition's store, catalog, schemas and lifetimes. */
export interface JourneyScope {
  partition: Partition;
  store: Store;
  catalog: BusinessAttributeCatalog;
  schemas: ExtensionSchemaCache;
  /** how long a service of this type lives after its last write, unless a ttl or expiration_time says otherwise */
  lifetimeFor: (serviceType: LongOrString | undefined) => number;
}

const ENTITY = { service: 'services', state: 'states', task: 'tasks' } as const;

export class Journeys {
  constructor(private readonly scope: JourneyScope) {}

  async startService(start: ServiceStart): Promise<bigint> {
    const { catalog, schemas, store } = this.scope;
    catalog.checkServiceStart(start);
    // without a ttl, the service lives for its type's expiration, else the configured default
    start.expiry = { lifetimeMs: this.scope.lifetimeFor(start.serviceType), ...start.expiry };
    start.extensions = await schemas.apply('services', start.extensions);
    return store.startService(start);
  }

  async endService(serviceId: bigint, end: ElementEnd): Promise<void> {
    this.scope.catalog.checkEnd('Service', end);
    end.extensions = await this.scope.schemas.apply('services', end.extensions);
    await this.scope.store.endService(serviceId, end);
  }

  async associateService(serviceId: bigint, customerId: string, association: ServiceAssociation): Promise<void> {
    this.scope.catalog.checkAssociation(association);
    association.extensions = await this.scope.schemas.apply('services', association.extensions);
    await this.scope.store.associateService(serviceId, customerId, association);
  }

  async updateExpiration(serviceId: bigint, expiry: Expiry): Promise<void> {
    await this.scope.store.updateServiceExpiration(serviceId, expiry);
  }

  async deleteService(serviceId: bigint): Promise<void> {
    await this.scope.store.deleteService(serviceId);
  }

  async startState(serviceId: bigint, start: StateStart): Promise<number> {
    this.scope.catalog.checkStateStart(start);
    start.extensions = await this.scope.schemas.apply('states', start.extensions);
    return this.scope.store.startState(serviceId, start);
  }

  async transitionState(serviceId: bigint, transition: StateTransition): Promise<number> {
    this.scope.catalog.checkEnd('State', transition.end);
    this.scope.catalog.checkStateStart(transition.start);
    transition.start.extensions = await this.scope.schemas.apply('states', transition.start.extensions);
    return this.scope.store.transitionState(serviceId, transition);
  }

  endState(serviceId: bigint, stateId: number, end: ElementEnd): Promise<void> {
    return this.endElement('state', serviceId, stateId, end);
  }

  async startTask(serviceId: bigint, start: TaskStart): Promise<number> {
    this.scope.catalog.checkTaskStart(start);
    start.extensions = await this.scope.schemas.apply('tasks', start.extensions);
    return this.scope.store.startTask(serviceId, start);
  }

  endTask(serviceId: bigint, taskId: number, end: ElementEnd): Promise<void> {
    return this.endElement('task', serviceId, taskId, end);
  }

  private async endElement(kind: 'state' | 'task', serviceId: bigint, id: number, end: ElementEnd): Promise<void> {
    this.scope.catalog.checkEnd(kind === 'state' ? 'State' : 'Task', end);
    end.extensions = await this.scope.schemas.apply(ENTITY[kind], end.extensions);
    if (kind === 'state') await this.scope.store.endState(serviceId, id, end);
    else await this.scope.store.endTask(serviceId, id, end);
  }

  /** PUT …/extensions/{name}: replaces the value; with `merge`, merges the body's keys into the stored value, inside the write. */
  async putExtension(owner: ExtensionOwner, written: Extensions, merge: boolean): Promise<void> {
    const validate = await this.scope.schemas.validator(ENTITY[owner.kind]);
    await this.scope.store.putExtensions(owner, merge ? (current) => validate(mergeExtensions(current, written)) : validate(written));
  }
}
