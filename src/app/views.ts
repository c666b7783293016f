// Builds the documented response objects for lists of services / states / tasks: reads the nested
// elements and the requested extensions in one query per kind (never one per element), then shapes
// them with the domain presenters.
import { invalid } from '../domain/errors.js';
import { readQueryBoolean, readQueryCount, readQueryList } from '../domain/fields.js';
import {
  NO_EXTENSIONS,
  parseExtensionSelection,
  presentService,
  presentState,
  presentTask,
  selects,
  type ExtensionSelection,
  type NameSelection,
  type ServiceView,
  type StateView,
  type TaskView,
} from '../domain/present.js';
import type { ElementStatus, Extensions, ServiceRecord, StateRecord, TaskRecord } from '../domain/records.js';
import type { Store } from '../store/store.js';
import type { BusinessAttributeCatalog } from '../domain/business-attributes.js';

/** What the views read from: the store, and the catalog for map-names. */
export interface ViewContext {
  store: Store;
  catalog?: BusinessAttributeCatalog;
}

export interface NestingQuery {
  active_states?: string;
  completed_states?: string;
  active_tasks?: string;
  completed_tasks?: string;
  extensions?: string | string[];
  limit?: string;
  offset?: string;
}

export interface Nesting {
  activeStates: boolean;
  completedStates: boolean;
  activeTasks: boolean;
  completedTasks: boolean;
  extensions: ExtensionSelection;
}

export function readNesting(query: NestingQuery, level: 'service' | 'state' | 'task'): Nesting {
  return {
    activeStates: level === 'service' && readQueryBoolean('active_states', query.active_states),
    completedStates: level === 'service' && readQueryBoolean('completed_states', query.completed_states),
    activeTasks: level !== 'task' && readQueryBoolean('active_tasks', query.active_tasks),
    completedTasks: level !== 'task' && readQueryBoolean('completed_tasks', query.completed_tasks),
    extensions: parseExtensionSelection(readQueryList(query.extensions), level),
  };
}

export function readPage(query: NestingQuery, maxLimit: number): { limit?: number; offset?: number } {
  const limit = readQueryCount('limit', query.limit);
  if (limit !== undefined && limit > maxLimit) throw invalid(`limit: at most ${maxLimit} (limits.list_limit)`);
  return { limit, offset: readQueryCount('offset', query.offset) };
}

function statusFor(active: boolean, completed: boolean): ElementStatus {
  return active && completed ? 'all' : active ? 'active' : 'completed';
}

async function extensionsOf(
  store: Store,
  kind: 'service' | 'state' | 'task',
  selection: NameSelection,
  ids: (bigint | number)[],
): Promise<Map<string, Extensions>> {
  return selects(selection) && ids.length > 0 ? store.loadExtensions(kind, ids) : new Map();
}

interface Presented<R, V> {
  record: R;
  view: V;
}

/** Splits presented elements into the active and completed halves. */
function byCompletion<R extends { completedAt?: number }, V>(items: Presented<R, V>[] | undefined): { active?: V[]; completed?: V[] } {
  return {
    active: items?.filter((i) => i.record.completedAt === undefined).map((i) => i.view),
    completed: items?.filter((i) => i.record.completedAt !== undefined).map((i) => i.view),
  };
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Keeps only the requested halves of an active/completed split. */
function pick<V>(parts: { active?: V[]; completed?: V[] }, active: boolean, completed: boolean) {
  return { active: active ? (parts.active ?? []) : undefined, completed: completed ? (parts.completed ?? []) : undefined };
}

export async function taskViews(ctx: ViewContext, tasks: TaskRecord[], nesting: Pick<Nesting, 'extensions'>, topLevel: boolean): Promise<TaskView[]> {
  const { store, catalog } = ctx;
  const selection = nesting.extensions.self;
  const extensions = await extensionsOf(store, 'task', selection, tasks.map((t) => t.taskId));
  const own = { self: selection, state: NO_EXTENSIONS.state, task: NO_EXTENSIONS.task };
  return tasks.map((task) => presentTask(task, { topLevel, extensions: own, ownExtensions: extensions.get(String(task.taskId)), names: catalog }));
}

export async function stateViews(ctx: ViewContext, states: StateRecord[], nesting: Nesting, topLevel: boolean): Promise<StateView[]> {
  const { store, catalog } = ctx;
  const wantTasks = nesting.activeTasks || nesting.completedTasks;
  const serviceIds = [...new Set(states.map((s) => s.serviceId))];
  const tasks = wantTasks
    ? await store.listTasks({ serviceIds, status: statusFor(nesting.activeTasks, nesting.completedTasks), taskTypes: [] })
    : [];
  const stateIds = new Set(states.map((s) => s.stateId));
  const nestedTasks = tasks.filter((t) => t.stateId !== undefined && stateIds.has(t.stateId));
  const nestedViews = await taskViews(ctx, nestedTasks, { extensions: { ...NO_EXTENSIONS, self: nesting.extensions.task } }, false);
  const tasksByState = groupBy(
    nestedTasks.map((record, i) => ({ record, view: nestedViews[i] })),
    (t) => t.record.stateId,
  );
  const extensions = await extensionsOf(store, 'state', nesting.extensions.self, states.map((s) => s.stateId));
  const own = { ...NO_EXTENSIONS, self: nesting.extensions.self };
  return states.map((state) =>
    presentState(state, {
      topLevel,
      extensions: own,
      ownExtensions: extensions.get(String(state.stateId)),
      names: catalog,
      tasks: wantTasks
        ? pick(byCompletion(tasksByState.get(state.stateId)), nesting.activeTasks, nesting.completedTasks)
        : undefined,
    }),
  );
}

export async function serviceViews(ctx: ViewContext, services: ServiceRecord[], nesting: Nesting): Promise<ServiceView[]> {
  const { store, catalog } = ctx;
  const serviceIds = services.map((s) => s.serviceId);
  const wantStates = nesting.activeStates || nesting.completedStates;
  const wantTasks = nesting.activeTasks || nesting.completedTasks;
  const [states, tasks, extensions] = await Promise.all([
    wantStates ? store.listStates({ serviceIds, status: statusFor(nesting.activeStates, nesting.completedStates), stateTypes: [] }) : [],
    wantTasks ? store.listTasks({ serviceIds, status: statusFor(nesting.activeTasks, nesting.completedTasks), taskTypes: [] }) : [],
    extensionsOf(store, 'service', nesting.extensions.self, serviceIds),
  ]);
  const nestedStateNesting: Nesting = {
    activeStates: false,
    completedStates: false,
    activeTasks: false,
    completedTasks: false,
    extensions: { ...NO_EXTENSIONS, self: nesting.extensions.state },
  };
  const stateViewList = await stateViews(ctx, states, nestedStateNesting, false);
  const taskViewList = await taskViews(ctx, tasks, { extensions: { ...NO_EXTENSIONS, self: nesting.extensions.task } }, false);
  const statesByService = groupBy(
    states.map((s, i) => ({ record: s, view: stateViewList[i] })),
    (s) => String(s.record.serviceId),
  );
  const tasksByService = groupBy(
    tasks.map((t, i) => ({ record: t, view: taskViewList[i] })),
    (t) => String(t.record.serviceId),
  );
  const own = { ...NO_EXTENSIONS, self: nesting.extensions.self };
  return services.map((service) => {
    const key = String(service.serviceId);
    return presentService(service, {
      topLevel: true,
      extensions: own,
      ownExtensions: extensions.get(key),
      names: catalog,
      states: wantStates ? pick(byCompletion(statesByService.get(key)), nesting.activeStates, nesting.completedStates) : undefined,
      tasks: wantTasks ? pick(byCompletion(tasksByService.get(key)), nesting.activeTasks, nesting.completedTasks) : undefined,
    });
  });
}
