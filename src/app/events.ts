// The live event stream of GET /genesys/1/cs/events, read from each partition's outbox (every
// committed write appends its events there, in its transaction: src/store/sql/outbox.ts). Event ids
// are the outbox's: they increase in commit order and are the same on every node, so a client
// resumes with Last-Event-ID on any node, after a restart, for as long as the retention keeps the
// events (events.retention).
//
// On each node, one feed per partition tails the outbox while someone on the node listens: a local
// commit wakes it, so does another node's (PostgreSQL NOTIFY, only a wake-up: what is delivered is
// always read from the outbox), and a slow poll covers a wake-up that never came (a node that died
// between its commit and its NOTIFY). A feed reads each new event once for all its subscribers.
// Events carry their partition inside the server only; they reach subscribers of that partition.
import type { EventDetails, EventFilter, EventKind, StoredEvent } from '../domain/event-kinds.js';
import type { Partition } from '../domain/tenancy.js';
import type { Store } from '../store/store.js';

/** An event as a subscriber receives it (the data of one SSE message). */
export interface JourneyEvent extends EventDetails {
  id: number;
  kind: EventKind;
  at: string;
  /** absent on profile, metadata and maintenance events */
  service_id?: string;
  customer_id?: string;
  contact_key?: string;
  /** the service's service_type (text form) on journey events */
  service_type?: string;
}

/** Wake-ups between nodes; absent on the embedded store (one node). */
export interface EventTransport {
  publish(payload: string): Promise<void>;
  subscribe(handler: (payload: string) => void): Promise<void>;
}

/** Events a feed reads at once, and a replay's page. */
export const EVENT_PAGE = 500;
/** A feed with subscribers looks at its outbox at least this often, whatever wakes it. */
export const POLL_EVERY_MS = 1_000;
/** With several nodes: a node with subscribers says so this often; others send wake-ups while they hear it. */
export const PRESENCE_EVERY_MS = 5_000;
const PRESENCE_TTL_MS = 3 * PRESENCE_EVERY_MS;
const PRESENCE = '{"presence":true}';

interface Subscriber {
  filter: EventFilter;
  send: (event: JourneyEvent) => void;
}

export function toJourneyEvent(event: StoredEvent): JourneyEvent {
  const out: JourneyEvent = { id: event.id, kind: event.kind, at: new Date(event.at).toISOString() };
  if (event.serviceId !== undefined) out.service_id = String(event.serviceId);
  if (event.customerId !== undefined) out.customer_id = event.customerId;
  if (event.contactKey !== undefined) out.contact_key = event.contactKey;
  if (event.serviceType !== undefined) out.service_type = event.serviceType;
  return Object.assign(out, event.details);
}

function matches(filter: EventFilter, event: StoredEvent): boolean {
  if (filter.kinds && filter.kinds.length > 0 && !filter.kinds.includes(event.kind)) return false;
  if (filter.serviceId !== undefined && filter.serviceId !== event.serviceId) return false;
  if (filter.customerId !== undefined && filter.customerId !== event.customerId) return false;
  if (filter.contactKey !== undefined && filter.contactKey !== event.contactKey) return false;
  return true;
}

/** One partition's outbox, tailed on this node while it has subscribers. */
class PartitionFeed {
  /** the last event id dispatched; undefined while nobody listens */
  private position?: number;
  private readonly subscribers = new Set<Subscriber>();
  private reading?: Promise<void>;
  private again = false;
  private poll?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown) => void,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  async add(subscriber: Subscriber): Promise<void> {
    this.subscribers.add(subscriber);
    if (this.position === undefined) {
      let position: number;
      try {
        position = await this.store.lastEventId();
      } catch (error) {
        this.delete(subscriber);
        throw error;
      }
      // the first subscriber sets the start; what committed while it was read comes with the wake-up below
      this.position ??= position;
      this.poll ??= setInterval(() => this.wake(), POLL_EVERY_MS);
      this.poll.unref();
    }
    this.wake();
  }

  delete(subscriber: Subscriber): void {
    if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0) return;
    // nobody listens: stop reading; the next subscriber starts from the outbox's end again
    this.stop();
    this.position = undefined;
  }

  /** New events may have committed: read them once for every subscriber (never two reads at once). */
  wake(): void {
    if (this.position === undefined) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.drain()
      .catch(this.onError)
      .finally(() => (this.reading = undefined));
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      for (;;) {
        if (this.position === undefined) return;
        const page = await this.store.readEvents({}, this.position, EVENT_PAGE);
        if (this.position === undefined) return;
        for (const event of page) {
          this.position = event.id;
          let out: JourneyEvent | undefined;
          for (const subscriber of this.subscribers) if (matches(subscriber.filter, event)) subscriber.send((out ??= toJourneyEvent(event)));
        }
        if (page.length < EVENT_PAGE) break;
      }
    } while (this.again);
  }

  stop(): void {
    clearInterval(this.poll);
    this.poll = undefined;
  }
}

export class EventHub {
  private readonly feeds = new Map<string, PartitionFeed>();
  private started?: Promise<void>;
  /** until when another node (or this one, through the database) has announced subscribers */
  private remoteUntil = -Infinity;
  private presenceTimer?: NodeJS.Timeout;
  /** partitions whose wake-up goes to the other nodes at the end of this turn of the event loop */
  private pendingWakeUps = new Set<string>();

  constructor(
    private readonly transport?: EventTransport,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Starts hearing the other nodes (once). */
  start(): Promise<void> {
    this.started ??= this.transport
      ? this.transport.subscribe((payload) => {
          if (payload === PRESENCE) this.remoteUntil = Date.now() + PRESENCE_TTL_MS;
          else if (payload.startsWith('{"wake":')) this.feeds.get((JSON.parse(payload) as { wake: string }).wake)?.wake();
        })
      : Promise.resolve();
    return this.started;
  }

  private get locallyWanted(): boolean {
    for (const feed of this.feeds.values()) if (feed.size > 0) return true;
    return false;
  }

  /** A store of this node committed events of `partition`: wake its feed here, and on the other nodes when some listen. */
  committed(partition: Partition): void {
    this.feeds.get(partition.key)?.wake();
    if (!this.transport || Date.now() >= this.remoteUntil) return;
    if (this.pendingWakeUps.size === 0) {
      // one NOTIFY per partition per turn, however many batches committed in it
      setImmediate(() => {
        const keys = [...this.pendingWakeUps];
        this.pendingWakeUps.clear();
        for (const key of keys) this.transport!.publish(JSON.stringify({ wake: key })).catch(this.onError);
      });
    }
    this.pendingWakeUps.add(partition.key);
  }

  /** Tells the other nodes that this one wants wake-ups, now and every PRESENCE_EVERY_MS while it does. */
  private announce(): Promise<void> {
    if (!this.transport) return Promise.resolve();
    if (!this.presenceTimer) {
      this.presenceTimer = setInterval(() => {
        if (this.locallyWanted) void this.transport!.publish(PRESENCE).catch(this.onError);
        else {
          clearInterval(this.presenceTimer);
          this.presenceTimer = undefined;
        }
      }, PRESENCE_EVERY_MS);
      this.presenceTimer.unref();
    }
    return this.transport.publish(PRESENCE).catch(this.onError);
  }

  stop(): void {
    clearInterval(this.presenceTimer);
    this.presenceTimer = undefined;
    for (const feed of this.feeds.values()) feed.stop();
  }

  /**
   * Streams the partition's matching events from now on; returns the unsubscribe function. Resolves
   * once the other nodes have been told to send wake-ups. A resuming subscriber replays after subscribing.
   */
  async subscribe(scope: { partition: Partition; store: Store }, filter: EventFilter, send: (event: JourneyEvent) => void): Promise<() => void> {
    let feed = this.feeds.get(scope.partition.key);
    if (!feed) this.feeds.set(scope.partition.key, (feed = new PartitionFeed(scope.store, this.onError)));
    const subscriber = { filter, send };
    await feed.add(subscriber);
    await this.announce();
    return () => feed.delete(subscriber);
  }

  /** The matching events after `lastEventId`, page by page, up to the newest: what a resuming subscriber missed. */
  async *since(store: Store, filter: EventFilter, lastEventId: number): AsyncGenerator<JourneyEvent[]> {
    let after = lastEventId;
    for (;;) {
      const page = await store.readEvents(filter, after, EVENT_PAGE);
      if (page.length > 0) {
        after = page[page.length - 1].id;
        yield page.map(toJourneyEvent);
      }
      if (page.length < EVENT_PAGE) return;
    }
  }

  get subscriberCount(): number {
    let count = 0;
    for (const feed of this.feeds.values()) count += feed.size;
    return count;
  }
}
