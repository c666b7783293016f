// The rollup fold's loop (#17): a commit that appended events wakes it, and within `intervalMs` it adds
// the rollup deltas those events carry to the rollup rows (Store.foldRollups), in bounded batches, for
// each partition woken. Reports are exact whether or not it has run; it keeps the tail they read short.
import type { Store } from './store/store.js';

/** events per fold transaction, by default */
const FOLD_BATCH = 5000;
/**
 * how long after a commit the fold runs, by default: a report reads the events not folded yet, so
 * under a steady write load this bounds the tail to the writes of about this long
 */
const FOLD_AFTER_MS = 200;

/** Folds `store`'s events until it has caught up (or `stopped` says so), in transactions of `batchSize` events. */
export async function foldAll(store: Store, batchSize = FOLD_BATCH, stopped: () => boolean = () => false): Promise<void> {
  while ((await store.foldRollups(batchSize)).examined === batchSize && !stopped());
}

export interface RollupFolderOptions {
  /** how long after a commit the fold runs (commits meanwhile wait for the same fold) */
  intervalMs?: number;
  /** events per fold transaction */
  batchSize?: number;
  onError?: (error: unknown) => void;
}

export class RollupFolder {
  private readonly woken = new Set<Store>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: RollupFolderOptions = {}) {}

  /** A commit appended events to `store`: fold them within the interval. */
  wake(store: Store): void {
    if (this.stopped) return;
    this.woken.add(store);
    this.schedule();
  }

  /** Arms the timer, unless it is armed or a fold is running (which schedules again when it ends). */
  private schedule(): void {
    if (this.timer || this.running || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.fold().finally(() => {
        this.running = undefined;
        // stores woken while it ran: their commits may have come after it read their events
        if (this.woken.size > 0) this.schedule();
      });
    }, this.options.intervalMs ?? FOLD_AFTER_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async fold(): Promise<void> {
    for (const store of [...this.woken]) {
      this.woken.delete(store);
      try {
        await foldAll(store, this.options.batchSize, () => this.stopped);
      } catch (error) {
        this.options.onError?.(error);
      }
    }
  }
}
