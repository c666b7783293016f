// The journey operations of one partition. Each takes a parsed command (src/domain/events.ts) and
// runs the steps in the one order that is right: the business-attribute check, the extension
// schemas, the store write (which checks before it writes), then the event — so a route is
// params → parse → call → status, and no route can leave a step out or put it after the write.
import type { BusinessAttributeCatalog } from '../domain/business-attributes.js';
import type { LongOrString } from '../domain/fields.js';
import { mergeExtensions } from '../domain/lifecycle.js';
import type { ElementEnd, Extensions, ServiceAssociation, ServiceStart, StateStart, StateTransition, TaskStart } from '../domain/records.js';
import type { Expiry } from '../domain/expiration.js';
import type { Partition } from '../domain/tenancy.js';
import type { ExtensionOwner, Store } from '../store/store.js';
import type { EventHub, EventKind } from './events.js';
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

const EXTENSION_EVENTS: Record<ExtensionOwner['kind'], EventKind> = { service: 'service.extension', state: 'state.extension', task: 'task.extension' };
const ENTITY = { service: 'services', state: 'states', task: 'tasks' } as const;

export class Journeys {
  constructor(
    private readonly scope: JourneyScope,
    private readonly events: EventHub,
  ) {}

  async startService(start: ServiceStart): Promise<bigint> {
    const { catalog, schemas, store } = this.scope;
    catalog.checkServiceStart(start);
    // without a ttl, the service lives for its type's expiration, else the configured default
    start.expiry = { lifetimeMs: this.scope.lifetimeFor(start.serviceType), ...start.expiry };
    start.extensions = await schemas.apply('services', start.extensions);
    const serviceId = await store.startService(start);
    this.events.emit(this.scope, 'service.started', serviceId, { customer_id: start.customerId, contact_key: start.contactKey });
    return serviceId;
  }

  async endService(serviceId: bigint, end: ElementEnd): Promise<void> {
    this.scope.catalog.checkEnd('Service', end);
    end.extensions = await this.scope.schemas.apply('services', end.extensions);
    await this.scope.store.endService(serviceId, end);
    this.events.emit(this.scope, 'service.ended', serviceId);
  }

  async associateService(serviceId: bigint, customerId: string, association: ServiceAssociation): Promise<void> {
    this.scope.catalog.checkAssociation(association);
    association.extensions = await this.scope.schemas.apply('services', association.extensions);
    await this.scope.store.associateService(serviceId, customerId, association);
    this.events.emit(this.scope, 'service.associated', serviceId);
  }

  async updateExpiration(serviceId: bigint, expiry: Expiry): Promise<void> {
    await this.scope.store.updateServiceExpiration(serviceId, expiry);
    this.events.emit(this.scope, 'service.expiration', serviceId);
  }

  async deleteService(serviceId: bigint): Promise<void> {
    // the event names the owner, which is gone after the delete
    const owner = this.events.wanted ? await this.scope.store.getService(serviceId) : undefined;
    await this.scope.store.deleteService(serviceId);
    this.events.emit(this.scope, 'service.deleted', serviceId, { customer_id: owner?.customerId, contact_key: owner?.contactKey });
  }

  async startState(serviceId: bigint, start: StateStart): Promise<number> {
    this.scope.catalog.checkStateStart(start);
    start.extensions = await this.scope.schemas.apply('states', start.extensions);
    const stateId = await this.scope.store.startState(serviceId, start);
    this.events.emit(this.scope, 'state.started', serviceId, { state_id: stateId });
    return stateId;
  }

  async transitionState(serviceId: bigint, transition: StateTransition): Promise<number> {
    this.scope.catalog.checkEnd('State', transition.end);
    this.scope.catalog.checkStateStart(transition.start);
    transition.start.extensions = await this.scope.schemas.apply('states', transition.start.extensions);
    const stateId = await this.scope.store.transitionState(serviceId, transition);
    this.events.emit(this.scope, 'state.transition', serviceId, { state_id: stateId, from_state_id: transition.fromStateId });
    return stateId;
  }

  endState(serviceId: bigint, stateId: number, end: ElementEnd): Promise<void> {
    return this.endElement('state', serviceId, stateId, end);
  }

  async startTask(serviceId: bigint, start: TaskStart): Promise<number> {
    this.scope.catalog.checkTaskStart(start);
    start.extensions = await this.scope.schemas.apply('tasks', start.extensions);
    const taskId = await this.scope.store.startTask(serviceId, start);
    this.events.emit(this.scope, 'task.started', serviceId, { task_id: taskId, state_id: start.stateId });
    return taskId;
  }

  endTask(serviceId: bigint, taskId: number, end: ElementEnd): Promise<void> {
    return this.endElement('task', serviceId, taskId, end);
  }

  private async endElement(kind: 'state' | 'task', serviceId: bigint, id: number, end: ElementEnd): Promise<void> {
    this.scope.catalog.checkEnd(kind === 'state' ? 'State' : 'Task', end);
    end.extensions = await this.scope.schemas.apply(ENTITY[kind], end.extensions);
    if (kind === 'state') await this.scope.store.endState(serviceId, id, end);
    else await this.scope.store.endTask(serviceId, id, end);
    this.events.emit(this.scope, `${kind}.ended`, serviceId, kind === 'state' ? { state_id: id } : { task_id: id });
  }

  /** PUT …/extensions/{name}: replaces the value; with `merge`, merges the body's keys into the stored value, inside the write. */
  async putExtension(owner: ExtensionOwner, name: string, written: Extensions, merge: boolean): Promise<void> {
    const validate = await this.scope.schemas.validator(ENTITY[owner.kind]);
    await this.scope.store.putExtensions(owner, merge ? (current) => validate(mergeExtensions(current, written)) : validate(written));
    const details = owner.kind === 'service' ? {} : owner.kind === 'state' ? { state_id: owner.id } : { task_id: owner.id };
    this.events.emit(this.scope, EXTENSION_EVENTS[owner.kind], owner.serviceId, { ...details, extension: name });
  }
}
