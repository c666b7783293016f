// The background sweep: deletes expired services, old Idempotency-Key answers and outbox events past
// their retention, and auto-completes idle ones, in bounded batches
// (each its own short transaction), so requests keep flowing while it works. With tenants, it
// sweeps every partition's store in turn.
import type { Partition } from './domain/tenancy.js';
import type { Store } from './store/store.js';

export interface SweeperOptions {
  /** Idempotency-Key answers older than this are deleted */
  idempotencyRetentionMs?: number;
  /** outbox events older than this are deleted */
  eventRetentionMs?: number;
  /** business time (the app's clock) */
  clock?: () => number;
  /** cview/auto-complete-enabled */
  autoComplete: boolean;
  /** cview/auto-complete-after, ms; services without their own auto_complete_after use it */
  autoCompleteAfterMs?: number;
  intervalMs?: number;
  batchSize?: number;
  /** most batches of each kind in one run */
  maxBatches?: number;
  onError?: (error: unknown) => void;
  /** after each sweep of every partition: what it did, and how long it took (ms) */
  onSwept?: (result: SweepResult, ms: number) => void;
}

export interface SweepResult {
  expired: number;
  completed: number;
}

export class Sweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SweepResult>;

  constructor(
    private readonly targets: readonly { partition: Partition; store: Store }[],
    private readonly options: SweeperOptions,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.runOnce().catch((error) => this.options.onError?.(error));
    }, this.options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sweep (never two at once). */
  runOnce(): Promise<SweepResult> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<SweepResult> {
    const began = performance.now();
    const total: SweepResult = { expired: 0, completed: 0 };
    for (const { store } of this.targets) {
      const result = await this.sweepOne(store);
      total.expired += result.expired;
      total.completed += result.completed;
    }
    this.options.onSwept?.(total, performance.now() - began);
    return total;
  }

  private async sweepOne(store: Store): Promise<SweepResult> {
    const batch = this.options.batchSize ?? 1000;
    const maxBatches = this.options.maxBatches ?? 20;
    const result: SweepResult = { expired: 0, completed: 0 };
    for (let i = 0; i < maxBatches; i++) {
      const { expired, examined } = await store.sweepExpired(batch);
      result.expired += expired;
      if (examined < batch) break;
    }
    if (this.options.idempotencyRetentionMs !== undefined) {
      const before = (this.options.clock ?? Date.now)() - this.options.idempotencyRetentionMs;
      for (let i = 0; i < maxBatches; i++) if ((await store.sweepIdempotentResponses(before, batch)) < batch) break;
    }
    if (this.options.eventRetentionMs !== undefined) {
      const before = (this.options.clock ?? Date.now)() - this.options.eventRetentionMs;
      for (let i = 0; i < maxBatches; i++) if ((await store.trimEvents(before, batch)) < batch) break;
      // webhook delivery attempts are kept as long as the events they carried
      for (let i = 0; i < maxBatches; i++) if ((await store.trimDeliveries(before, batch)) < batch) break;
    }
    if (this.options.autoComplete) {
      for (let i = 0; i < maxBatches; i++) {
        const n = await store.autoCompleteIdle(this.options.autoCompleteAfterMs, batch);
        result.completed += n;
        if (n < batch) break;
      }
    }
    return result;
  }
}
