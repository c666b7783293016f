// Bulk import (#19), written once for both stores: a batch of whole services (checked, and their
// rows built, in the import's workers: ../import-rows.ts) goes in as one group-commit write, in a few
// set-based statements however many it holds. Ids are kept when free and the partition's (a contextd export into a new store
// comes back with its own ids), else new ones are taken from the sequences, and references inside
// the service (a task's state, a state's previous state) follow. A record imported before (by its
// content's digest, imported_services) is not imported again. Imported elements count in the
// analytics rollups like any other; the batch appends one `maintenance.imported` event, not an
// event per element: an import is history arriving, not a journey happening.
import { decodeDeltas, mergeDeltas, type HourDelta } from '../../domain/analytics.js';
import { expiryOnInsert } from '../../domain/expiration.js';
import { parseJsonText, stringifyJson } from '../../domain/json.js';
import type { ImportBatch } from '../import-rows.js';
import type { ImportOutcome } from '../store.js';
import type { ColumnType, Dialect, IdTable, SqlReader } from './dialect.js';
import { insertIndexedRows, upsertExtensionRows } from './extensions.js';
import type { Write } from './write.js';

interface ImportPlan {
  outcomes: ImportOutcome[];
  /** the records to insert, by their index in the batch */
  fresh: number[];
  /** per table, the source ids kept (free and not twice in the batch) */
  kept: Record<IdTable, Set<bigint>>;
  /** what the inserted services add to the rollups */
  deltas: HourDelta[];
}

const idText = (id: bigint | number) => String(id);

async function taken(read: SqlReader, d: Dialect, table: IdTable, column: string, ids: bigint[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await read.all<{ id: unknown }>(`SELECT ${column} AS id FROM ${table} WHERE ${d.inList(column, 'bigint')}`, [d.list(ids)]);
  return new Set(rows.map((r) => idText(r.id as bigint)));
}

/** The ids of `wanted` that are free in the table, each once. */
async function keepable(read: SqlReader, d: Dialect, table: IdTable, column: string, wanted: bigint[]): Promise<Set<bigint>> {
  const used = await taken(read, d, table, column, wanted);
  const kept = new Set<bigint>();
  for (const id of wanted) if (!used.has(idText(id))) kept.add(id);
  return kept;
}

const SERVICE_TYPES: ColumnType[] = ['bigint', 'text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'boolean', 'bigint', 'bigint', 'text', 'bigint', 'text'];
const STATE_TYPES: ColumnType[] = ['bigint', 'bigint', 'text', 'bigint', 'bigint', 'text', 'text', 'boolean'];
const TASK_TYPES: ColumnType[] = ['bigint', 'bigint', 'bigint', 'text', 'bigint', 'bigint', 'text'];
const LEDGER_TYPES: ColumnType[] = ['text', 'bigint'];

/** A state's doc with started.previous_state_id as this store now has it. */
function withPrevious(doc: string, previous: number): string {
  const parsed = parseJsonText(doc) as { started: Record<string, unknown> };
  parsed.started.previous_state_id = previous;
  return stringifyJson(parsed);
}

/** One batch of an import: each record's outcome in order (imported, with its id; or found imported before). */
export function importServices(d: Dialect, batch: ImportBatch, owns: (serviceId: bigint) => boolean): Write<ImportOutcome[], ImportPlan> {
  const records = batch.services;
  return {
    plan: async (read) => {
      const before = new Map<string, bigint>();
      if (records.length > 0) {
        const rows = await read.all<{ digest: string; service_id: unknown }>(`SELECT digest, service_id FROM imported_services WHERE ${d.inList('digest', 'text')}`, [
          d.list(records.map((r) => r.digest)),
        ]);
        for (const row of rows) before.set(row.digest, BigInt(row.service_id as bigint));
      }
      const outcomes: ImportOutcome[] = new Array(records.length);
      const fresh: number[] = [];
      const digests = new Set<string>();
      for (const [i, record] of records.entries()) {
        const found = before.get(record.digest);
        if (found !== undefined) outcomes[i] = { status: 'present', sourceId: record.sourceId, serviceId: found };
        else if (digests.has(record.digest)) outcomes[i] = { status: 'duplicate', sourceId: record.sourceId };
        else {
          digests.add(record.digest);
          fresh.push(i);
        }
      }
      // the ids asked for, each once (a second record with the same id is remapped)
      const once = <T>(values: T[]) => [...new Map(values.map((v) => [String(v), v])).values()];
      const services = once(fresh.flatMap((i) => (records[i].keepId !== undefined && owns(records[i].keepId!) ? [records[i].keepId!] : [])));
      const states = once(fresh.flatMap((i) => records[i].states.flatMap((s) => (s.sourceId === undefined ? [] : [BigInt(s.sourceId)]))));
      const tasks = once(fresh.flatMap((i) => records[i].tasks.flatMap((t) => (t.sourceId === undefined ? [] : [BigInt(t.sourceId)]))));
      const kept = {
        services: await keepable(read, d, 'services', 'service_id', services),
        states: await keepable(read, d, 'states', 'state_id', states),
        tasks: await keepable(read, d, 'tasks', 'task_id', tasks),
      };
      // the batch's merged deltas when every service is new (the usual batch), else the new ones' merged
      const deltas = fresh.length === records.length ? decodeDeltas(batch.deltas) : mergeDeltas(fresh.flatMap((i) => decodeDeltas(records[i].deltas)));
      return { outcomes, fresh, kept, deltas };
    },
    apply: async (tx, plan, now) => {
      const { outcomes, fresh, kept } = plan;
      // kept ids first move the sequences past them, then new ids are drawn for the rest
      const claim = async (table: IdTable, wanted: (bigint | undefined)[]): Promise<bigint[]> => {
        const keep = kept[table];
        const max = [...keep].reduce((m, id) => (id > m ? id : m), 0n);
        if (max > 0n) await d.advanceIds(tx, table, max);
        // an id is kept once: a second element asking for it gets a new one
        const used = new Set<bigint>();
        const keeps = wanted.map((id) => {
          if (id === undefined || !keep.has(id) || used.has(id)) return false;
          used.add(id);
          return true;
        });
        const drawn = await d.allocateIds(tx, table, keeps.filter((k) => !k).length);
        let next = 0;
        return wanted.map((id, i) => (keeps[i] ? id! : drawn[next++]));
      };
      const chosen = fresh.map((i) => records[i]);
      const serviceIds = await claim('services', chosen.map((r) => r.keepId));
      const stateIds = await claim('states', chosen.flatMap((r) => r.states.map((s) => (s.sourceId === undefined ? undefined : BigInt(s.sourceId)))));
      const taskIds = await claim('tasks', chosen.flatMap((r) => r.tasks.map((t) => (t.sourceId === undefined ? undefined : BigInt(t.sourceId)))));

      const serviceRows: unknown[][] = [];
      const stateRows: unknown[][] = [];
      const taskRows: unknown[][] = [];
      const extensionRows: unknown[][] = [];
      const indexedRows: unknown[][] = [];
      const ledger: unknown[][] = [];
      let nextState = 0;
      let nextTask = 0;
      for (const [n, record] of chosen.entries()) {
        const serviceId = serviceIds[n];
        const expiry = expiryOnInsert(record.expiry, now);
        serviceRows.push([serviceId, record.customerId, record.contactKey, record.type, record.startedAt, expiry.expiresAt, expiry.lifetimeMs, expiry.fixed, record.autoCompleteAfterMs, now, record.doc, record.completedAt, record.disposition]);
        // the file's state ids, as this store now has them
        const stateIdOf = new Map<number, number>();
        const ownStateIds = record.states.map((state) => {
          const stateId = Number(stateIds[nextState++]);
          if (state.sourceId !== undefined) stateIdOf.set(state.sourceId, stateId);
          return stateId;
        });
        for (const [i, state] of record.states.entries()) {
          const previous = state.previous === undefined ? undefined : stateIdOf.get(state.previous)!;
          const doc = previous === state.previous ? state.doc : withPrevious(state.doc, previous!);
          stateRows.push([serviceId, ownStateIds[i], state.type, state.startedAt, state.completedAt, doc, state.mediaType, record.completedAt === null && state.completedAt === null]);
        }
        const ownTaskIds = record.tasks.map((task) => {
          const taskId = Number(taskIds[nextTask++]);
          taskRows.push([serviceId, taskId, task.stateId === undefined ? null : stateIdOf.get(task.stateId)!, task.type, task.startedAt, task.completedAt, task.doc]);
          return taskId;
        });
        for (const ext of record.extensions) {
          const ownerId = ext.owner === 'service' ? serviceId : ext.owner === 'state' ? ownStateIds[ext.index] : ownTaskIds[ext.index];
          extensionRows.push([ext.owner, ownerId, serviceId, ext.key, ext.name, ext.value]);
          for (const v of ext.indexed) indexedRows.push([serviceId, ext.owner, ownerId, ext.key, v.attribute, v.text, v.number]);
        }
        ledger.push([record.digest, serviceId]);
        outcomes[fresh[n]] = { status: 'imported', sourceId: record.sourceId, serviceId, remapped: record.keepId !== serviceId };
      }
      if (serviceRows.length > 0) {
        await tx.run(
          `INSERT INTO services (service_id, customer_id, contact_key, service_type, started_at, expires_at, lifetime_ms, expires_fixed, auto_complete_after_ms, updated_at, doc, completed_at, disposition, counted)
           SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, TRUE FROM ${d.rows(SERVICE_TYPES)}`,
          d.rowParams(SERVICE_TYPES, serviceRows),
        );
        await tx.run(`INSERT INTO imported_services (digest, service_id) SELECT c0, c1 FROM ${d.rows(LEDGER_TYPES)}`, d.rowParams(LEDGER_TYPES, ledger));
      }
      if (stateRows.length > 0) {
        await tx.run(
          `INSERT INTO states (service_id, state_id, state_type, started_at, completed_at, doc, media_type, in_active_service, counted)
           SELECT c0, c1, c2, c3, c4, c5, c6, c7, TRUE FROM ${d.rows(STATE_TYPES)}`,
          d.rowParams(STATE_TYPES, stateRows),
        );
      }
      if (taskRows.length > 0) {
        await tx.run(`INSERT INTO tasks (service_id, task_id, state_id, task_type, started_at, completed_at, doc) SELECT c0, c1, c2, c3, c4, c5, c6 FROM ${d.rows(TASK_TYPES)}`, d.rowParams(TASK_TYPES, taskRows));
      }
      await upsertExtensionRows(tx, d, extensionRows);
      await insertIndexedRows(tx, d, indexedRows);
      return outcomes;
    },
    events: (outcomes) => {
      const imported = outcomes.filter((o) => o.status === 'imported').length;
      return imported > 0 ? [{ kind: 'maintenance.imported', details: { imported } }] : [];
    },
    rollups: (_outcomes, plan) => plan.deltas,
  };
}
