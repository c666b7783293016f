// A write in two steps, so that a refused write has written nothing — by construction, not by care:
// `plan` reads and checks (it may throw a DomainError; it gets a reader, with no way to write), and
// `apply` writes what the plan decided (any failure there is unexpected: a bug or the database).
import type { HourDelta } from '../../domain/analytics.js';
import type { EventDraft } from '../../domain/event-kinds.js';
import type { ServiceStart } from '../../domain/records.js';
import type { SqlReader, SqlWriter } from './dialect.js';

export interface Write<T = unknown, P = unknown> {
  /** Reads and checks at `now` (the batch's business time); throws a DomainError to refuse. */
  plan(read: SqlReader, now: number): Promise<P>;
  /** Writes; never refuses. */
  apply(tx: SqlWriter, plan: P, now: number): Promise<T>;
  /** the existing service it writes to: a batch locks all of its services first, in id order */
  lock?: bigint;
  /** a service start: a batch inserts its starts together, in a few statements */
  start?: ServiceStart;
  /** the service the write changes without re-arming it itself: once the batch's writes are applied, it re-arms each such service once */
  touches?: bigint;
  /** what the write records in the outbox once applied (the batch appends every write's events last, in order) */
  events?(value: T, plan: P): readonly EventDraft[];
  /** what the write adds to the time-in-state and outcome rollups (the batch merges every write's onto its last event, for the fold) */
  rollups?(value: T, plan: P): readonly HourDelta[];
}

/** A write that checks nothing. */
export function applyOnly<T>(apply: (tx: SqlWriter, now: number) => Promise<T>, events?: (value: T) => readonly EventDraft[]): Write<T, undefined> {
  return { plan: async () => undefined, apply: (tx, _plan, now) => apply(tx, now), events };
}
