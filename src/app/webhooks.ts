// Webhook delivery. Each webhook of each partition is an outbox relay (src/app/relay.ts) with its
// own position and lease, so with several nodes one node delivers a webhook at a time, and a crash
// before the position moved sends the page again (at least once). Within a page the events of one
// ordering key (a service, a customer) go out one after another, different keys side by side (at most
// `concurrency` requests in flight). An event that fails is queued in the store with every later
// event of its key behind it, and the page moves on: a failing service holds up only itself. Queued
// events are retried with exponential backoff and jitter (domain/webhooks.ts) until the retry period
// is over, then dead-lettered; every attempt is logged. Deliveries run beside the API and never make
// a request wait.
import type { StoredEvent } from '../domain/event-kinds.js';
import { stringifyJson } from '../domain/json.js';
import type { Partition } from '../domain/tenancy.js';
import {
  DEFAULT_RETRY,
  WAITING,
  messageId,
  nextAttemptAt,
  orderingKey,
  sign,
  wants,
  type DeliveryAttempt,
  type DeliveryRound,
  type RetryPolicy,
  type Webhook,
} from '../domain/webhooks.js';
import type { Store } from '../store/store.js';
import { toJourneyEvent } from './events.js';
import { keepAlivePoster, type Poster } from './post.js';
import { OutboxRelay, type EventSink, type RelayOptions } from './relay.js';

export interface WebhookOptions {
  /** a receiver that has not answered by then has failed (default 10 s) */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** requests in flight per webhook (default 16) */
  concurrency?: number;
  /** business time: the retry schedule and the log (tests move it by hand) */
  clock?: () => number;
  /** how often each node looks for webhooks created or deleted on another node (default 2 s) */
  refreshMs?: number;
  relay?: RelayOptions;
  onError?: (error: unknown) => void;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 16;
const DEFAULT_REFRESH_MS = 2_000;
/** queued events retried per round */
const RETRY_ROUND = 100;
const MAX_ERROR_LENGTH = 300;

class Interrupted extends Error {}

/** Runs `work` on each item, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function emptyRound(): DeliveryRound {
  return { attempts: [], enqueue: [], reschedule: [], settled: [] };
}

/** The body of a delivery (Standard Webhooks payload structure). */
export function deliveryBody(event: StoredEvent, extensions?: Record<string, unknown>): string {
  const data = extensions === undefined ? toJourneyEvent(event) : { ...toJourneyEvent(event), extensions };
  return stringifyJson({ type: event.kind, timestamp: new Date(event.at).toISOString(), data });
}

/** The current values of the extensions an extension event names, by name (an extension since deleted is left out). */
async function extensionValues(store: Store, event: StoredEvent): Promise<Record<string, unknown> | undefined> {
  const names = event.details.extension;
  if (names === undefined || event.serviceId === undefined) return undefined;
  const [kind, ownerId] =
    event.kind === 'state.extension' ? (['state', event.details.state_id] as const) : event.kind === 'task.extension' ? (['task', event.details.task_id] as const) : (['service', event.serviceId] as const);
  if (ownerId === undefined) return undefined;
  const stored = (await store.loadExtensions(kind, [ownerId])).get(String(ownerId));
  const values: Record<string, unknown> = {};
  for (const name of names.split(',')) {
    const extension = stored?.get(name.toLowerCase());
    if (extension) values[extension.name] = extension.value;
  }
  return values;
}

/** One webhook's deliveries in one partition. */
export class WebhookSink implements EventSink {
  readonly relay: string;
  private readonly stopping = new AbortController();
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly concurrency: number;
  private readonly clock: () => number;
  private readonly url: URL;
  private readonly poster: Poster;

  constructor(
    readonly webhook: Webhook,
    private readonly store: Store,
    options: WebhookOptions,
  ) {
    this.relay = `webhook:${webhook.id}`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.clock = options.clock ?? Date.now;
    this.url = new URL(webhook.url);
    this.poster = keepAlivePoster(this.concurrency);
  }

  async deliver(partition: Partition, events: readonly StoredEvent[]): Promise<void> {
    const byKey = new Map<string, StoredEvent[]>();
    for (const event of events) {
      if (!wants(this.webhook, event)) continue;
      const key = orderingKey(event);
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push(event);
    }
    if (byKey.size === 0) return;
    const waiting = await this.store.pendingDeliveryKeys(this.webhook.id, [...byKey.keys()]);
    const round = emptyRound();
    await eachLimited([...byKey], this.concurrency, async ([key, list]) => {
      let failed = waiting.has(key);
      for (const event of list) {
        const now = this.clock();
        if (failed) {
          round.enqueue.push({ eventId: event.id, orderingKey: key, attempts: 0, firstAt: now, nextAt: WAITING });
          continue;
        }
        const attempt = await this.send(partition, event, 1);
        if (attempt.outcome === 'delivered') {
          round.attempts.push(attempt);
          continue;
        }
        failed = true;
        const nextAt = nextAttemptAt(this.retry, 1, now, this.clock()) ?? this.clock();
        round.attempts.push(attempt);
        round.enqueue.push({ eventId: event.id, orderingKey: key, attempts: 1, firstAt: now, nextAt });
      }
    });
    await this.store.recordDeliveryRound(this.webhook.id, round);
  }

  /** Retries the queued events that are due; how soon the next one is (0: promoted ones are due now). */
  async drain(partition: Partition): Promise<number | undefined> {
    const due = await this.store.dueDeliveries(this.webhook.id, this.clock(), RETRY_ROUND);
    if (due.length > 0) {
      const round = emptyRound();
      await eachLimited(due, this.concurrency, async (pending) => {
        const number = pending.attempts + 1;
        if (!pending.event) {
          // the outbox retention trimmed it while it waited: nothing left to send
          round.attempts.push({ eventId: pending.eventId, kind: 'service.started', attempt: number, at: this.clock(), latencyMs: 0, error: 'the event is no longer in the outbox', outcome: 'dead' });
          round.settled.push({ eventId: pending.eventId, orderingKey: pending.orderingKey, outcome: 'dead' });
          return;
        }
        const attempt = await this.send(partition, pending.event, number);
        round.attempts.push(attempt);
        if (attempt.outcome === 'delivered') {
          round.settled.push({ eventId: pending.eventId, orderingKey: pending.orderingKey, outcome: 'delivered' });
          return;
        }
        const nextAt = nextAttemptAt(this.retry, number, pending.firstAt, this.clock());
        if (nextAt === undefined) {
          attempt.outcome = 'dead';
          round.settled.push({ eventId: pending.eventId, orderingKey: pending.orderingKey, outcome: 'dead' });
        } else {
          round.reschedule.push({ eventId: pending.eventId, attempts: number, nextAt });
        }
      });
      await this.store.recordDeliveryRound(this.webhook.id, round);
      if (round.settled.length > 0) return 0;
    }
    const next = await this.store.nextDeliveryDueAt(this.webhook.id);
    return next === undefined ? undefined : Math.max(0, next - this.clock());
  }

  /** One signed POST; its attempt record ('delivered' on a 2xx, else 'failed'). */
  private async send(partition: Partition, event: StoredEvent, number: number): Promise<DeliveryAttempt> {
    const body = deliveryBody(event, this.webhook.includeExtensions ? await extensionValues(this.store, event) : undefined);
    const id = messageId(partition.key, event.id);
    // the receiver checks the timestamp against its own clock: wall-clock time
    const timestamp = Math.floor(Date.now() / 1000);
    const at = this.clock();
    const started = performance.now();
    const attempt: DeliveryAttempt = { eventId: event.id, kind: event.kind, attempt: number, at, latencyMs: 0, outcome: 'failed' };
    try {
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'contextd-webhooks',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': sign(this.webhook.secret, id, timestamp, body),
      };
      attempt.status = await this.poster.post(this.url, headers, body, this.timeoutMs, this.stopping.signal);
      if (attempt.status >= 200 && attempt.status < 300) attempt.outcome = 'delivered';
      else attempt.error = `the receiver answered ${attempt.status}`;
    } catch (error) {
      if (this.stopping.signal.aborted) throw new Interrupted('stopping');
      attempt.error = describe(error);
    }
    attempt.latencyMs = performance.now() - started;
    return attempt;
  }

  interrupt(): void {
    this.stopping.abort();
  }

  async close(): Promise<void> {
    this.poster.close();
  }
}

function describe(error: unknown): string {
  const e = error as { message?: string; code?: string };
  const text = e.message || e.code || String(error);
  return (e.code && !text.includes(e.code) ? `${text} (${e.code})` : text).slice(0, MAX_ERROR_LENGTH);
}

interface Running {
  relay: OutboxRelay;
  partition: Partition;
}

/**
 * Runs one relay per webhook on this node: it reads each partition's webhooks at start, after a
 * change on this node, and every `refreshMs` (changes on other nodes), starting and stopping relays.
 */
export class WebhookDispatcher {
  private readonly running = new Map<string, Running>();
  private timer?: NodeJS.Timeout;
  private refreshing = Promise.resolve();
  private started = false;
  private stopped = false;

  constructor(
    private readonly targets: readonly { partition: Partition; store: Store }[],
    private readonly options: WebhookOptions = {},
  ) {}

  start(): void {
    this.started = true;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? DEFAULT_REFRESH_MS);
    this.timer.unref();
  }

  /** Events of `partition` committed on this node: its webhooks deliver them now. */
  wake(partition: Partition): void {
    for (const running of this.running.values()) if (running.partition.key === partition.key) running.relay.wake(partition);
  }

  /** Looks at every partition's webhooks again (one refresh at a time; nothing before start). */
  refresh(): Promise<void> {
    if (!this.started) return Promise.resolve();
    this.refreshing = this.refreshing.then(() => this.reconcile()).catch((error) => this.options.onError?.(error));
    return this.refreshing;
  }

  private async reconcile(): Promise<void> {
    for (const { partition, store } of this.targets) {
      if (this.stopped) return;
      let webhooks: Webhook[];
      try {
        webhooks = await store.listWebhooks();
      } catch (error) {
        this.options.onError?.(error);
        continue;
      }
      const ids = new Set(webhooks.map((w) => `${partition.key}#${w.id}`));
      for (const [key, running] of this.running) {
        if (running.partition.key === partition.key && !ids.has(key)) {
          this.running.delete(key);
          await running.relay.stop();
        }
      }
      for (const webhook of webhooks) {
        const key = `${partition.key}#${webhook.id}`;
        if (this.running.has(key)) continue;
        const relay = new OutboxRelay(new WebhookSink(webhook, store, this.options), [{ partition, store }], { onError: this.options.onError, ...this.options.relay });
        this.running.set(key, { relay, partition });
        relay.start();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.refreshing;
    await Promise.all([...this.running.values()].map((r) => r.relay.stop()));
    this.running.clear();
  }
}
