// Shapes records into the documented wire objects: hoisted fields at the element level, per-event
// fields under started/completed, duration for completed elements, service_id only at the top level,
// extensions only when asked for, as top-level keys of their owner.
import type { BusinessAttributeCatalog, MappedEntity } from './business-attributes.js';
import type { LongOrString } from './fields.js';
import type { EventData, Extensions, ServiceRecord, StateRecord, TaskRecord, ElementFields } from './records.js';

/** Which extensions to show on one level: none, all, or a set of lower-cased names. */
export type NameSelection = 'all' | ReadonlySet<string>;
const NONE: ReadonlySet<string> = new Set();

export interface ExtensionSelection {
  self: NameSelection;
  state: NameSelection;
  task: NameSelection;
}

export function selects(selection: NameSelection): boolean {
  return selection === 'all' || selection.size > 0;
}

/**
 * Reads the `extensions` query tokens for a query whose top level is `level`: a bare name applies to the
 * returned elements, `State.X` / `Task.X` to nested states / tasks, `*` to every level.
 */
export function parseExtensionSelection(tokens: string[], level: 'service' | 'state' | 'task'): ExtensionSelection {
  const sets = { self: new Set<string>(), state: new Set<string>(), task: new Set<string>() };
  const all = { self: false, state: false, task: false };
  const target = (prefix: 'state' | 'task'): 'self' | 'state' | 'task' => (prefix === level ? 'self' : prefix);
  for (const token of tokens) {
    const lower = token.toLowerCase();
    if (lower === '*') {
      all.self = all.state = all.task = true;
      continue;
    }
    const dot = lower.indexOf('.');
    const prefix = dot > 0 ? lower.slice(0, dot) : '';
    let slot: 'self' | 'state' | 'task' = 'self';
    let name = lower;
    if (prefix === 'state' || prefix === 'task') {
      slot = target(prefix);
      name = lower.slice(dot + 1);
    }
    if (name === '*') all[slot] = true;
    else sets[slot].add(name);
  }
  const pick = (slot: 'self' | 'state' | 'task'): NameSelection => (all[slot] ? 'all' : sets[slot].size ? sets[slot] : NONE);
  return { self: pick('self'), state: level === 'service' ? pick('state') : NONE, task: level === 'task' ? NONE : pick('task') };
}

export const NO_EXTENSIONS: ExtensionSelection = { self: NONE, state: NONE, task: NONE };

type Json = Record<string, unknown>;

function put(target: Json, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

function addExtensions(target: Json, extensions: Extensions | undefined, selection: NameSelection): void {
  if (!extensions || !selects(selection)) return;
  for (const [key, ext] of extensions) {
    if (selection === 'all' || selection.has(key)) {
      // defineProperty: a stored name can never reach an object's prototype
      Object.defineProperty(target, ext.name, { value: ext.value, enumerable: true, writable: true, configurable: true });
    }
  }
}

function addCommon(target: Json, fields: ElementFields, entity: MappedEntity, names: BusinessAttributeCatalog | undefined): void {
  put(target, 'est_duration', fields.estDuration);
  put(target, 'disposition', names ? names.display(entity, 'disposition', fields.disposition) : fields.disposition);
  put(target, 'disposition_desc', fields.dispositionDesc);
  if (fields.completedAt !== undefined) target.duration = fields.completedAt - fields.startedAt;
  target.started = (names ? names.displayEvent(entity, fields.started) : fields.started) satisfies EventData;
  put(target, 'completed', fields.completed && names ? names.displayEvent(entity, fields.completed) : fields.completed);
}

function typeOf(entity: MappedEntity, value: LongOrString | undefined, names: BusinessAttributeCatalog | undefined): LongOrString | undefined {
  return names ? names.display(entity, 'type', value) : value;
}

export interface TaskView extends Json {
  task_id: number;
}
export interface StateView extends Json {
  state_id: number;
}
export interface ServiceView extends Json {
  service_id: bigint;
}

export interface PresentOptions {
  topLevel: boolean;
  extensions: ExtensionSelection;
  /** extensions of the element itself, loaded by the caller when selected */
  ownExtensions?: Extensions;
  /** with map-names on: shows business-attribute value names instead of dbids */
  names?: BusinessAttributeCatalog;
}

export function presentTask(task: TaskRecord, options: PresentOptions): TaskView {
  const view: TaskView = options.topLevel ? ({ service_id: task.serviceId } as unknown as TaskView) : ({} as TaskView);
  view.task_id = task.taskId;
  put(view, 'task_type', typeOf('Task', task.taskType, options.names));
  put(view, 'state_id', task.stateId);
  addCommon(view, task, 'Task', options.names);
  addExtensions(view, options.ownExtensions, options.extensions.self);
  return view;
}

export interface NestedTasks {
  active?: TaskView[];
  completed?: TaskView[];
}

export function presentState(state: StateRecord, options: PresentOptions & { tasks?: NestedTasks }): StateView {
  const view: StateView = options.topLevel ? ({ service_id: state.serviceId } as unknown as StateView) : ({} as StateView);
  view.state_id = state.stateId;
  put(view, 'state_type', typeOf('State', state.stateType, options.names));
  addCommon(view, state, 'State', options.names);
  put(view, 'active_tasks', options.tasks?.active);
  put(view, 'completed_tasks', options.tasks?.completed);
  addExtensions(view, options.ownExtensions, options.extensions.self);
  return view;
}

export interface NestedStates {
  active?: StateView[];
  completed?: StateView[];
}

export function presentService(
  service: ServiceRecord,
  options: PresentOptions & { states?: NestedStates; tasks?: NestedTasks },
): ServiceView {
  const view: ServiceView = { service_id: service.serviceId };
  put(view, 'service_type', typeOf('Service', service.serviceType, options.names));
  put(view, 'customer_id', service.customerId);
  put(view, 'contact_key', service.contactKey);
  addCommon(view, service, 'Service', options.names);
  put(view, 'active_states', options.states?.active);
  put(view, 'completed_states', options.states?.completed);
  put(view, 'active_tasks', options.tasks?.active);
  put(view, 'completed_tasks', options.tasks?.completed);
  addExtensions(view, options.ownExtensions, options.extensions.self);
  return view;
}


/** A profile with every core attribute and every extension, for a privacy export. */
export function presentProfileForExport(profile: { customerId: string; attributes: Record<string, unknown>; extensions: Extensions }): Record<string, unknown> {
  const view: Json = { customer_id: profile.customerId, ...profile.attributes };
  addExtensions(view, profile.extensions, 'all');
  return view;
}
