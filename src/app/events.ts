// Live journey events: every committed write publishes one event; subscribers of
// GET /genesys/1/cs/events receive the ones that match their filter. Events carry a per-node
// sequence number as their SSE id; the last EVENT_WINDOW events stay in memory so that a client
// reconnecting with Last-Event-ID misses nothing within that window (events are recorded while a
// client is connected, or left less than RESUME_GRACE_MS ago). With several nodes on
// PostgreSQL, events travel through LISTEN/NOTIFY, so a subscriber on any node sees every node's.
//
// Events carry their partition (tenant, group) inside the server and reach only subscribers of the
// same partition; the partition is never sent to clients.
import { parseStoredJson, stringifyJson } from '../domain/json.js';
import type { Partition } from '../domain/tenancy.js';
import type { Store } from '../store/store.js';

export const EVENT_KINDS = [
  'service.started',
  'service.ended',
  'service.associated',
  'service.deleted',
  'service.expiration',
  'service.extension',
  'state.started',
  'state.ended',
  'state.transition',
  'state.extension',
  'task.started',
  'task.ended',
  'task.extension',
  'maintenance.purged',
  'maintenance.expired',
  'maintenance.auto-completed',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface JourneyEvent {
  id?: number;
  /** the partition key: internal, stripped before sending */
  partition: string;
  kind: EventKind;
  at: string;
  /** absent on maintenance events, which concern many services */
  service_id?: string;
  customer_id?: string;
  contact_key?: string;
  state_id?: number;
  from_state_id?: number;
  task_id?: number;
  extension?: string;
  purged?: number;
}

export interface EventFilter {
  partition: string;
  customerId?: string;
  contactKey?: string;
  serviceId?: string;
  kinds?: ReadonlySet<string>;
}

/** How events reach the other nodes; absent on the embedded store (one node). */
export interface EventTransport {
  publish(payload: string): Promise<void>;
  subscribe(handler: (payload: string) => void): Promise<void>;
}

export const EVENT_WINDOW = 10_000;
/** With several nodes: a node with subscribers says so this often; others publish while they hear it. */
export const PRESENCE_EVERY_MS = 5_000;
const PRESENCE_TTL_MS = 3 * PRESENCE_EVERY_MS;
const PRESENCE = '{"presence":true}';
/** After the last subscriber leaves, events are still recorded this long, so a reconnect can resume. */
export const RESUME_GRACE_MS = 10 * 60_000;

interface Subscriber {
  filter: EventFilter;
  send: (event: JourneyEvent) => void;
}

function matches(filter: EventFilter, event: JourneyEvent): boolean {
  if (filter.partition !== event.partition) return false;
  if (filter.kinds && !filter.kinds.has(event.kind)) return false;
  if (filter.serviceId !== undefined && filter.serviceId !== event.service_id) return false;
  if (filter.customerId !== undefined && filter.customerId !== event.customer_id) return false;
  if (filter.contactKey !== undefined && filter.contactKey !== event.contact_key) return false;
  return true;
}

export class EventHub {
  private seq = 0;
  private readonly window: JourneyEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private started?: Promise<void>;
  private lastSubscriberLeft = -Infinity;
  /** until when another node (or this one, through the database) has announced subscribers */
  private remoteUntil = -Infinity;
  private presenceTimer?: NodeJS.Timeout;

  constructor(
    private readonly transport?: EventTransport,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Starts listening to the other nodes (once). */
  start(): Promise<void> {
    this.started ??= this.transport
      ? this.transport.subscribe((payload) => {
          if (payload === PRESENCE) this.remoteUntil = Date.now() + PRESENCE_TTL_MS;
          else this.deliver(parseStoredJson(payload) as JourneyEvent);
        })
      : Promise.resolve();
    return this.started;
  }

  /** This node has subscribers, or had one recently (it may resume). */
  private get locallyWanted(): boolean {
    return this.subscribers.size > 0 || Date.now() - this.lastSubscriberLeft < RESUME_GRACE_MS;
  }

  /**
   * Someone may be listening: here, or on another node that announced its subscribers. A cluster
   * nobody watches does no event work at all (no lookups, no NOTIFY).
   */
  get wanted(): boolean {
    return this.locallyWanted || Date.now() < this.remoteUntil;
  }

  /** Tells the other nodes that this one wants events, now and every PRESENCE_EVERY_MS while it does. */
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
  }

  /**
   * Publishes an event about a service after its write committed. Fire and forget: a failure to
   * publish never fails the write that caused it.
   */
  emit(
    scope: { partition: Partition; store: Store },
    kind: EventKind,
    serviceId: bigint,
    details: Omit<JourneyEvent, 'kind' | 'at' | 'service_id' | 'partition'> = {},
  ): void {
    if (!this.wanted) return;
    void (async () => {
      const known = details.customer_id !== undefined || details.contact_key !== undefined || kind === 'service.deleted';
      const owner = known ? undefined : await scope.store.getService(serviceId);
      const event: JourneyEvent = { partition: scope.partition.key, kind, at: new Date().toISOString(), service_id: String(serviceId), ...details };
      if (owner?.customerId !== undefined) event.customer_id = owner.customerId;
      if (owner?.contactKey !== undefined) event.contact_key = owner.contactKey;
      if (this.transport) await this.transport.publish(stringifyJson(event));
      else this.deliver(event);
    })().catch(this.onError);
  }

  /** An event about many services (purge, expiry sweep): reaches subscribers without an owner filter. */
  emitMaintenance(
    partition: Partition,
    kind: 'maintenance.purged' | 'maintenance.expired' | 'maintenance.auto-completed',
    details: Pick<JourneyEvent, 'purged'>,
  ): void {
    if (!this.wanted) return;
    const event: JourneyEvent = { partition: partition.key, kind, at: new Date().toISOString(), ...details };
    (this.transport ? this.transport.publish(stringifyJson(event)) : Promise.resolve(this.deliver(event))).catch(this.onError);
  }

  private deliver(event: JourneyEvent): void {
    const numbered = { ...event, id: ++this.seq };
    this.window.push(numbered);
    if (this.window.length > EVENT_WINDOW) this.window.splice(0, this.window.length - EVENT_WINDOW);
    for (const subscriber of this.subscribers) if (matches(subscriber.filter, numbered)) subscriber.send(numbered);
  }

  /** The window's events after `lastEventId` that match (a snapshot, to replay). */
  since(filter: EventFilter, lastEventId: number): JourneyEvent[] {
    return this.window.filter((event) => event.id! > lastEventId && matches(filter, event));
  }

  /**
   * Streams matching events from now on; returns the unsubscribe function. Resolves once the other
   * nodes have been told to publish. A resuming subscriber replays `since` after subscribing.
   */
  async subscribe(filter: EventFilter, send: (event: JourneyEvent) => void): Promise<() => void> {
    const subscriber = { filter, send };
    this.subscribers.add(subscriber);
    await this.announce();
    return () => {
      if (this.subscribers.delete(subscriber)) this.lastSubscriberLeft = Date.now();
    };
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
