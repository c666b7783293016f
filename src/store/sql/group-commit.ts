// The group-commit queue of both stores: writes that arrive in the same turn of the event loop share
// one transaction (one fsync), run by the batch rule (batch.ts); each promise settles after COMMIT.
// A driver (sqlite/, postgres/) supplies the transaction and says which errors mean what.
import { DomainError, unavailable } from '../../domain/errors.js';
import { committed, idempotentWrites, replayedResult } from '../idempotent-writes.js';
import { BatchAborted, runBatch, type BatchItem, type BatchRules, type Outcome } from './batch.js';
import type { SqlWriter } from './dialect.js';
import type { Write } from './write.js';

export interface WriteDriver extends BatchRules {
  /** Runs `work` in one transaction; `deadline` (wall-clock epoch ms): by then it has committed or failed. */
  transaction<T>(work: (tx: SqlWriter) => Promise<T>, deadline: number): Promise<T>;
  /** a deadlock or a serialization failure: the whole batch may simply run again */
  isRetryable(error: unknown): boolean;
  /** what every write of a batch that failed as a whole sees */
  batchFailure(error: unknown): unknown;
  /** why no write can be made now (checked before each batch), if so */
  refusal?(): string | undefined;
}

export interface GroupCommitOptions {
  /** most writes in one transaction */
  maxBatch: number;
  /** batches committing at once (each on its own connection) */
  concurrency: number;
  /** a write is answered within this (committed, refused or 503), however long the database takes */
  answerWithinMs: number;
  /** business time */
  clock: () => number;
  /**
   * false: no write carries rollup deltas, so the analytics reports miss every write — only for
   * measuring what analytics cost writes (npm run bench); true by default
   */
  rollups?: boolean;
  /** after a commit that appended events to the outbox */
  onEvents?: () => void;
  /** after each commit: how many writes the batch held, and how long its transaction took (ms) */
  onCommit?: (writes: number, ms: number) => void;
}

interface Queued extends BatchItem {
  deadline: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private pending: Queued[] = [];
  private flushing = 0;
  /** the slots of the batches that may commit at once: the rows a batch adds rollup deltas to itself, when it has no event to carry them (rollups.ts) */
  private readonly freeSlots: number[];
  private flushScheduled = false;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly driver: WriteDriver,
    private readonly options: GroupCommitOptions,
  ) {
    this.freeSlots = Array.from({ length: options.concurrency }, (_, i) => options.concurrency - 1 - i);
  }

  /** Queues a write; `untracked`: not one of the request's own writes (a record, a probe), so no idempotent record. */
  submit<T>(write: Write<T>, untracked = false): Promise<T> {
    if (this.closed) return Promise.reject(unavailable('the store is closed'));
    const idempotent = untracked ? undefined : idempotentWrites.getStore();
    // a retry after a crash: this write committed the first time, so its recorded result stands
    const replayed = replayedResult(idempotent);
    if (replayed) return Promise.resolve(replayed.value as T);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        write,
        idempotent,
        deadline: Date.now() + this.options.answerWithinMs,
        resolve: (value) => {
          committed(idempotent, value);
          resolve(value as T);
        },
        reject,
      });
      this.schedule();
    });
  }

  /** Commits what is queued, then refuses new writes. */
  async close(): Promise<void> {
    if (this.pending.length > 0 || this.flushing > 0 || this.flushScheduled) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.closed = true;
  }

  private schedule(): void {
    if (this.flushScheduled || this.flushing >= this.options.concurrency) return;
    this.flushScheduled = true;
    // one turn of the event loop, so that writes arriving together join the batch
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.pending.length === 0 || this.flushing >= this.options.concurrency) return this.settleIdle();
      this.flushing++;
      void this.flush(this.freeSlots.pop()!);
    });
  }

  private async flush(slot: number): Promise<void> {
    try {
      const now = Date.now();
      const batch: Queued[] = [];
      const refusal = this.driver.refusal?.();
      for (const item of this.pending.splice(0, this.options.maxBatch)) {
        if (refusal) item.reject(unavailable(refusal));
        // a write that waited past its deadline for a connection (the database is not answering): 503 now
        else if (item.deadline <= now) item.reject(unavailable(`the database did not answer within ${this.options.answerWithinMs} ms`));
        else batch.push(item);
      }
      if (batch.length > 0) await this.commit(batch, slot);
    } finally {
      this.freeSlots.push(slot);
      this.flushing--;
      if (this.pending.length > 0) this.schedule();
      else this.settleIdle();
    }
  }

  private settleIdle(): void {
    if (this.pending.length > 0 || this.flushing > 0 || this.flushScheduled) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private async commit(batch: Queued[], slot: number): Promise<void> {
    const deadline = Math.min(...batch.map((item) => item.deadline));
    let savepoints = false;
    for (;;) {
      let outcomes: Outcome[];
      let events: number;
      try {
        const now = this.options.clock();
        const began = performance.now();
        ({ outcomes, events } = await this.driver.transaction((tx) => runBatch(tx, this.driver, batch, { now, savepoints, slot, rollups: this.options.rollups ?? true }), deadline));
        this.options.onCommit?.(batch.length, performance.now() - began);
      } catch (error) {
        const cause = error instanceof BatchAborted ? error.cause : error;
        if (error instanceof BatchAborted && !error.fatal && !this.driver.isRetryable(cause) && !savepoints) {
          savepoints = true;
          continue;
        }
        // a deadlock (with a purge or an erase, which lock many services) or a serialization failure:
        // nothing of the batch was acknowledged, so it runs again while its deadline allows, then 503
        const retryable = this.driver.isRetryable(cause);
        if (retryable && Date.now() < deadline) continue;
        const failure = retryable
          ? unavailable(`the writes could not be serialized within ${this.options.answerWithinMs} ms; retry`)
          : cause instanceof DomainError
            ? cause
            : this.driver.batchFailure(cause);
        for (const item of batch) item.reject(failure);
        return;
      }
      batch.forEach((item, i) => {
        const outcome = outcomes[i];
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
      if (events > 0) this.options.onEvents?.();
      return;
    }
  }
}
