// The states and tasks tables (the elements of a service), written once for both stores.
import { stateCompleted, stateStarted } from '../../domain/analytics.js';
import { typeKey } from '../../domain/fields.js';
import { DomainError, invalid, notFound } from '../../domain/errors.js';
import { completeDoc, type ElementDoc } from '../../domain/lifecycle.js';
import type { ElementEnd, StateRecord, StateStart, StateTransition, TaskRecord, TaskStart } from '../../domain/records.js';
import { decodeDoc, docColumns, docOf, stateFromRow, taskFromRow, type StateRow, type TaskRow } from '../codec.js';
import type { StateFilter, TaskFilter } from '../store.js';
import type { Dialect, SqlReader, SqlWriter } from './dialect.js';
import { extensionWrites, writeExtensions } from './extensions.js';
import { afterClause, docParams, pageClause, requireService, requireServiceStatus, setDoc, statusClause, type Owner } from './services.js';
import type { Write } from './write.js';

type Kind = 'state' | 'task';
const TABLE = { state: 'states', task: 'tasks' } as const;
const STATE_COLUMNS = 'state_id, service_id, started_at, completed_at, doc';
const TASK_COLUMNS = 'task_id, service_id, state_id, started_at, completed_at, doc';

async function stateExists(read: SqlReader, serviceId: bigint, stateId: number): Promise<boolean> {
  return (await read.one('SELECT 1 AS found FROM states WHERE state_id = ? AND service_id = ?', [stateId, serviceId])) !== undefined;
}

/** The element's doc completed by `end` (NotFound via `missing`, Conflict when already completed); for a state, whether the time-in-state rollups count it (migration 010). */
async function planEnd(read: SqlReader, d: Dialect, kind: Kind, serviceId: bigint, id: number, end: ElementEnd, missing: () => DomainError): Promise<{ doc: ElementDoc; counted: boolean }> {
  const row = await read.one<{ doc: string; counted?: boolean | number }>(
    `SELECT doc${kind === 'state' ? ', counted' : ''} FROM ${TABLE[kind]} WHERE ${kind}_id = ? AND service_id = ?${d.forUpdate}`,
    [id, serviceId],
  );
  if (!row) throw missing();
  return { doc: completeDoc(kind, id, decodeDoc(row.doc), end), counted: Boolean(row.counted) };
}

async function applyEnd(tx: SqlWriter, d: Dialect, kind: Kind, serviceId: bigint, id: number, doc: ElementDoc, end: ElementEnd): Promise<void> {
  await tx.run(`UPDATE ${TABLE[kind]} SET ${setDoc(`${kind}_type`)} WHERE ${kind}_id = ?`, [...docParams(doc), id]);
  await writeExtensions(tx, d, extensionWrites(kind, id, serviceId, end.extensions));
}

/** `serviceActive`: read while planning (the live board counts only the states of active services). */
async function insertState(tx: SqlWriter, d: Dialect, serviceId: bigint, start: StateStart, serviceActive: boolean): Promise<number> {
  const c = docColumns(docOf({ ...start, type: start.stateType }));
  // 1 / 0: better-sqlite3 binds no booleans, and PostgreSQL reads '1' / '0' as one
  const row = await tx.one<{ state_id: bigint | number }>(
    'INSERT INTO states (service_id, state_type, started_at, completed_at, doc, media_type, counted, in_active_service) VALUES (?, ?, ?, ?, ?, ?, TRUE, ?) RETURNING state_id',
    [serviceId, c.type, c.startedAt, c.completedAt, c.doc, typeKey(start.started.media_type), serviceActive ? 1 : 0],
  );
  const stateId = Number(row!.state_id);
  await writeExtensions(tx, d, extensionWrites('state', stateId, serviceId, start.extensions), true);
  return stateId;
}

export function startState(d: Dialect, serviceId: bigint, start: StateStart): Write<number, { owner: Owner; active: boolean }> {
  return {
    lock: serviceId,
    touches: serviceId,
    plan: async (read, now) => {
      const status = await requireServiceStatus(read, d, serviceId, now);
      const previous = start.started.previous_state_id;
      if (previous !== undefined && !(await stateExists(read, serviceId, previous))) throw invalid(`previous_state_id ${previous} is not a state of service ${serviceId}`);
      return status;
    },
    apply: (tx, { active }) => insertState(tx, d, serviceId, start, active),
    events: (stateId, { owner }) => [{ kind: 'state.started', serviceId, ...owner, details: { state_id: stateId } }],
    rollups: (_stateId, { owner }) => [stateStarted(start.startedAt, start.stateType, owner.serviceType, start.started.media_type)],
  };
}

export function endElement(d: Dialect, kind: Kind, serviceId: bigint, id: number, end: ElementEnd): Write<void, { doc: ElementDoc; counted: boolean; owner: Owner }> {
  return {
    lock: serviceId,
    touches: serviceId,
    plan: async (read, now) => {
      const owner = await requireService(read, d, serviceId, now);
      return { ...(await planEnd(read, d, kind, serviceId, id, end, () => notFound(kind, id))), owner };
    },
    apply: (tx, { doc }) => applyEnd(tx, d, kind, serviceId, id, doc, end),
    events: (_value, { owner }) => [{ kind: `${kind}.ended`, serviceId, ...owner, details: kind === 'state' ? { state_id: id } : { task_id: id } }],
    rollups: (_value, { doc, counted, owner }) => (kind === 'state' && counted ? [stateCompleted(doc, owner.serviceType)] : []),
  };
}

/** Ends `from` and starts the next state, in one write; the new state's previous state is `from`. */
export function transitionState(d: Dialect, serviceId: bigint, transition: StateTransition): Write<number, { doc: ElementDoc; counted: boolean; owner: Owner; active: boolean }> {
  const from = transition.fromStateId;
  return {
    lock: serviceId,
    touches: serviceId,
    plan: async (read, now) => {
      const { owner, active } = await requireServiceStatus(read, d, serviceId, now);
      return { ...(await planEnd(read, d, 'state', serviceId, from, transition.end, () => invalid(`from.state_id ${from} is not a state of service ${serviceId}`))), owner, active };
    },
    apply: async (tx, { doc, active }) => {
      await applyEnd(tx, d, 'state', serviceId, from, doc, transition.end);
      return insertState(tx, d, serviceId, transition.start, active);
    },
    events: (stateId, { owner }) => [{ kind: 'state.transition', serviceId, ...owner, details: { state_id: stateId, from_state_id: from } }],
    rollups: (_stateId, { doc, counted, owner }) => [
      ...(counted ? [stateCompleted(doc, owner.serviceType)] : []),
      stateStarted(transition.start.startedAt, transition.start.stateType, owner.serviceType, transition.start.started.media_type),
    ],
  };
}

export function startTask(d: Dialect, serviceId: bigint, start: TaskStart): Write<number, Owner> {
  return {
    lock: serviceId,
    touches: serviceId,
    plan: async (read, now) => {
      const owner = await requireService(read, d, serviceId, now);
      if (start.stateId !== undefined && !(await stateExists(read, serviceId, start.stateId))) throw invalid(`state_id ${start.stateId} is not a state of service ${serviceId}`);
      return owner;
    },
    apply: async (tx) => {
      const c = docColumns(docOf({ ...start, type: start.taskType }));
      const row = await tx.one<{ task_id: bigint | number }>(
        'INSERT INTO tasks (service_id, state_id, task_type, started_at, completed_at, doc) VALUES (?, ?, ?, ?, ?, ?) RETURNING task_id',
        [serviceId, start.stateId ?? null, c.type, c.startedAt, c.completedAt, c.doc],
      );
      const taskId = Number(row!.task_id);
      await writeExtensions(tx, d, extensionWrites('task', taskId, serviceId, start.extensions), true);
      return taskId;
    },
    events: (taskId, owner) => [{ kind: 'task.started', serviceId, ...owner, details: { task_id: taskId, state_id: start.stateId } }],
  };
}

export async function getState(read: SqlReader, serviceId: bigint, stateId: number): Promise<StateRecord | undefined> {
  const row = await read.one<StateRow>(`SELECT ${STATE_COLUMNS} FROM states WHERE state_id = ? AND service_id = ?`, [stateId, serviceId]);
  return row && stateFromRow(row);
}

export async function getTask(read: SqlReader, serviceId: bigint, taskId: number): Promise<TaskRecord | undefined> {
  const row = await read.one<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE task_id = ? AND service_id = ?`, [taskId, serviceId]);
  return row && taskFromRow(row);
}

export async function listStates(read: SqlReader, d: Dialect, filter: StateFilter): Promise<StateRecord[]> {
  if (filter.serviceIds.length === 0) return [];
  const params: unknown[] = [d.list(filter.serviceIds)];
  let where = d.inList('service_id', 'bigint') + statusClause(filter.status);
  if (filter.stateTypes.length > 0) {
    where += ` AND ${d.inList('state_type', 'text')}`;
    params.push(d.list(filter.stateTypes));
  }
  where += afterClause('state_id', filter.after, params);
  const sql = `SELECT ${STATE_COLUMNS} FROM states WHERE ${where} ORDER BY started_at, state_id${pageClause(params, filter.limit, filter.offset)}`;
  return (await read.all<StateRow>(sql, params)).map(stateFromRow);
}

export async function listTasks(read: SqlReader, d: Dialect, filter: TaskFilter): Promise<TaskRecord[]> {
  if (filter.serviceIds.length === 0) return [];
  const params: unknown[] = [d.list(filter.serviceIds)];
  let where = d.inList('service_id', 'bigint') + statusClause(filter.status);
  if (filter.taskTypes.length > 0) {
    where += ` AND ${d.inList('task_type', 'text')}`;
    params.push(d.list(filter.taskTypes));
  }
  if (filter.stateId !== undefined) {
    where += ' AND state_id = ?';
    params.push(filter.stateId);
  }
  where += afterClause('task_id', filter.after, params);
  const sql = `SELECT ${TASK_COLUMNS} FROM tasks WHERE ${where} ORDER BY started_at, task_id${pageClause(params, filter.limit, filter.offset)}`;
  return (await read.all<TaskRow>(sql, params)).map(taskFromRow);
}
