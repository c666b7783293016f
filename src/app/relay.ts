// Carries each partition's outbox to a sink outside contextd (NATS JetStream, each webhook), at
// least once and in outbox order: read a page after the relay's position, deliver it, and only once
// the sink acknowledged every event, move the position (advanceRelay). A crash between delivery and
// the move delivers that page again after restart; the sink makes that harmless (NATS de-duplicates
// by message id). With several nodes one holds the relay's lease and delivers; another takes over
// when it stops (at once on a graceful stop, else when the lease lapses). The API never waits for a
// relay: a slow or absent sink only delays delivery.
import { hostname } from 'node:os';
import type { StoredEvent } from '../domain/event-kinds.js';
import type { Partition } from '../domain/tenancy.js';
import type { Store } from '../store/store.js';

export interface EventSink {
  /** the relay's name in each store (its position and lease) */
  readonly relay: string;
  /** Delivers the events; resolves once every one of them was acknowledged downstream. */
  deliver(partition: Partition, events: readonly StoredEvent[]): Promise<void>;
  /**
   * Work of the lease holder besides the outbox (a webhook's retries), done before each page;
   * resolves to how soon it has more (ms), or undefined when it has none.
   */
  drain?(partition: Partition): Promise<number | undefined>;
  /** Stop: gives up what is in flight (it is not recorded, so it goes out again later). */
  interrupt?(): void;
  close(): Promise<void>;
}

export interface RelayOptions {
  leaseMs?: number;
  /** an idle relay looks at the outbox this often (commits on this node wake it at once) */
  pollMs?: number;
  onError?: (error: unknown) => void;
}

export const RELAY_PAGE = 500;
const DEFAULT_LEASE_MS = 10_000;
const DEFAULT_POLL_MS = 500;
const MAX_BACKOFF_MS = 30_000;

interface Target {
  partition: Partition;
  store: Store;
  wake?: () => void;
}

export class OutboxRelay {
  /** this node, as a lease holder */
  readonly holder = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly targets: Target[];
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private readonly leaseMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly sink: EventSink,
    targets: readonly { partition: Partition; store: Store }[],
    private readonly options: RelayOptions = {},
  ) {
    this.targets = targets.map((t) => ({ ...t }));
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  start(): void {
    for (const target of this.targets) this.loops.push(this.run(target));
  }

  /** Events of `partition` committed on this node: deliver them now. */
  wake(partition: Partition): void {
    this.targets.find((t) => t.partition.key === partition.key)?.wake?.();
  }

  /** Finishes the page in hand (unless the sink interrupts it), gives the leases up and closes the sink. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sink.interrupt?.();
    for (const target of this.targets) target.wake?.();
    await Promise.all(this.loops);
    await Promise.all(this.targets.map((t) => t.store.releaseRelay(this.sink.relay, this.holder).catch(() => undefined)));
    await this.sink.close();
  }

  private async run(target: Target): Promise<void> {
    const { relay } = this.sink;
    let backoff = 0;
    while (!this.stopped) {
      try {
        const position = await target.store.claimRelay(relay, this.holder, this.leaseMs);
        // another node delivers: look again before its lease would lapse
        if (position === undefined) {
          await this.pause(target, this.leaseMs / 2);
          continue;
        }
        const drain = this.sink.drain;
        const moreInMs = drain && (await this.holdingLease(target, () => drain.call(this.sink, target.partition)));
        const page = await target.store.readEvents({}, position, RELAY_PAGE);
        if (page.length === 0) {
          await this.pause(target, Math.min(this.pollMs, moreInMs ?? Infinity));
          continue;
        }
        await this.holdingLease(target, () => this.sink.deliver(target.partition, page));
        await target.store.advanceRelay(relay, this.holder, page[page.length - 1].id, this.leaseMs);
        backoff = 0;
      } catch (error) {
        if (!this.stopped) this.options.onError?.(error);
        // a sink or a store that is away: try again later, more slowly each time
        backoff = Math.min(MAX_BACKOFF_MS, Math.max(250, backoff * 2));
        await this.pause(target, backoff);
      }
    }
  }

  /** Runs `work`, renewing the lease meanwhile: a page to a slow receiver may take longer than a lease. */
  private async holdingLease<T>(target: Target, work: () => Promise<T>): Promise<T> {
    const renew = setInterval(() => void target.store.claimRelay(this.sink.relay, this.holder, this.leaseMs).catch(() => undefined), this.leaseMs / 3);
    try {
      return await work();
    } finally {
      clearInterval(renew);
    }
  }

  /** Waits `ms`, or less if woken (a commit, a stop). */
  private pause(target: Target, ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        target.wake = undefined;
        resolve();
      }
      target.wake = done;
    });
  }
}
