// The one batch rule of both stores. A group-commit batch runs its writes in one transaction. First
// without savepoints: every write plans, then applies (src/store/sql/write.ts), so a write refused
// while planning drops out having written nothing, and the others go on. A failure while applying is
// unexpected and aborts the transaction; the batch then runs again with a savepoint around each
// write, so that one fails alone. Last, the services the writes changed are re-armed once, and the
// writes' events appended to the outbox, the last carrying the batch's rollup deltas. Every promise
// settles only after COMMIT.
import { DomainError } from '../../domain/errors.js';
import { pendingRecord, type IdempotentWrites } from '../idempotent-writes.js';
import type { Dialect, SqlWriter } from './dialect.js';
import { upsertIdempotent } from './idempotency.js';
import { appendEvents } from './outbox.js';
import { encodeDeltas, mergeDeltas } from '../../domain/analytics.js';
import { addRollups } from './rollups.js';
import { insertServices, touchServices } from './services.js';
import type { Write } from './write.js';

export interface BatchItem {
  write: Write;
  /** the Idempotency-Key of the request making the write: its record is written in the same savepoint */
  idempotent?: IdempotentWrites;
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** An unexpected failure in a batch without savepoints: the transaction is aborted. */
export class BatchAborted extends Error {
  constructor(
    override readonly cause: unknown,
    /** the transaction cannot go on at all (connection lost, or the database rolled it back itself) */
    readonly fatal: boolean,
  ) {
    super('batch aborted');
  }
}

export interface BatchRules {
  dialect: Dialect;
  /** the error left the transaction unusable: the batch fails as a whole */
  isFatal(error: unknown): boolean;
  /** what a caller sees of a write's own failure */
  translate(error: unknown): unknown;
}

export interface BatchAttempt {
  /** business time of every write in the batch */
  now: number;
  /** a savepoint around each write (the rerun after an unexpected failure) */
  savepoints: boolean;
  /** the group commit's slot running the batch: no batch committing at the same time on this node has the same */
  slot: number;
  /** whether the writes' rollup deltas are kept (GroupCommitOptions.rollups) */
  rollups: boolean;
}

/** One attempt at a batch inside an open transaction: each write's outcome, in order, and how many events the batch appended. */
export async function runBatch(tx: SqlWriter, rules: BatchRules, batch: readonly BatchItem[], { now, savepoints, slot, rollups }: BatchAttempt): Promise<{ outcomes: Outcome[]; events: number }> {
  const d = rules.dialect;
  // every service the batch changes, locked first and in id order: batches on other connections never wait in a cycle
  const locks = d.forUpdate ? [...new Set(batch.flatMap((item) => (item.write.lock === undefined ? [] : [item.write.lock])))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  if (locks.length > 0) await tx.all(`SELECT 1 AS locked FROM services WHERE ${d.inList('service_id', 'bigint')} ORDER BY service_id${d.forUpdate}`, [d.list(locks)]);
  const outcomes: Outcome[] = new Array(batch.length);
  const plans: unknown[] = new Array(batch.length);
  if (!savepoints) {
    // starts cannot be refused: they are inserted together
    const starts = batch.flatMap((item, i) => (item.write.start ? [i] : []));
    if (starts.length > 0) {
      const ids = await fallible(rules, () => insertServices(tx, d, starts.map((i) => batch[i].write.start!), now));
      for (const [n, i] of starts.entries()) {
        const idempotent = batch[i].idempotent;
        if (idempotent) await fallible(rules, () => upsertIdempotent(tx, pendingRecord(idempotent, ids[n], now)));
        outcomes[i] = { ok: true, value: ids[n] };
      }
    }
  }
  for (const [i, item] of batch.entries()) {
    if (outcomes[i]) continue;
    if (savepoints) await tx.run('SAVEPOINT write');
    let plan: unknown;
    try {
      plan = await item.write.plan(tx, now);
    } catch (error) {
      if (error instanceof DomainError) {
        outcomes[i] = { ok: false, error };
        if (savepoints) await tx.run('RELEASE write');
        continue;
      }
      outcomes[i] = await failed(tx, rules, error, savepoints);
      continue;
    }
    plans[i] = plan;
    try {
      const value = await item.write.apply(tx, plan, now);
      if (item.idempotent) await upsertIdempotent(tx, pendingRecord(item.idempotent, value, now));
      outcomes[i] = { ok: true, value };
      if (savepoints) await tx.run('RELEASE write');
    } catch (error) {
      outcomes[i] = await failed(tx, rules, error, savepoints);
    }
  }
  // each service the applied writes changed is re-armed once, in one statement: every write of the batch has the same `now`
  const touched = [...new Set(batch.flatMap((item, i) => (item.write.touches !== undefined && outcomes[i].ok ? [item.write.touches] : [])))];
  await fallible(rules, () => touchServices(tx, d, touched, now));
  const deltas = mergeDeltas(
    batch.flatMap((item, i) => {
      const outcome = outcomes[i];
      return rollups && outcome.ok && item.write.rollups ? item.write.rollups(outcome.value, plans[i]) : [];
    }),
  );
  const events = batch.flatMap((item, i) => {
    const outcome = outcomes[i];
    return outcome.ok && item.write.events ? item.write.events(outcome.value, plans[i]) : [];
  });
  // the rollup deltas ride on the batch's last event, for the fold to add to the rows (foldRollups):
  // one column of a row the batch writes anyway, where upserting the rows here cost PostgreSQL as
  // many row writes again as the writes themselves. A batch with deltas and no event (none today)
  // adds them to its slot's rows itself, in key order, before the counter.
  if (deltas.length > 0 && events.length === 0) await fallible(rules, () => addRollups(tx, d, deltas, slot));
  // the events last: the outbox's counter row, which every batch takes, is then held only until COMMIT
  await fallible(rules, () => appendEvents(tx, d, events, now, deltas.length > 0 && events.length > 0 ? encodeDeltas(deltas) : undefined));
  return { outcomes, events: events.length };
}

/** Without savepoints an unexpected error aborts the batch; with them, the write's savepoint is undone and it fails alone. */
async function failed(tx: SqlWriter, rules: BatchRules, error: unknown, savepoints: boolean): Promise<Outcome> {
  const fatal = rules.isFatal(error);
  if (!savepoints || fatal) throw new BatchAborted(error, fatal);
  await tx.run('ROLLBACK TO write');
  await tx.run('RELEASE write');
  return { ok: false, error: rules.translate(error) };
}

async function fallible<T>(rules: BatchRules, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new BatchAborted(error, rules.isFatal(error));
  }
}
