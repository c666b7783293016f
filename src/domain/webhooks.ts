// Webhooks: what a subscription is, which events it wants, how a delivery is signed and when a failed
// one is tried again. Deliveries follow the Standard Webhooks specification (standardwebhooks.com):
// the headers webhook-id, webhook-timestamp and webhook-signature, where the signature is
// `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed by the secret's bytes (the base64 after
// `whsec_`), and the body `{ type, timestamp, data }`.
import { createHmac, randomBytes } from 'node:crypto';
import { invalid } from './errors.js';
import { EVENT_KINDS, type EventKind, type StoredEvent } from './event-kinds.js';

export interface Webhook {
  id: string;
  url: string;
  /** the kinds delivered; empty = every kind */
  kinds: EventKind[];
  /** only this customer's events */
  customerId?: string;
  /** only events of services of these types (text forms); empty = any */
  serviceTypes: string[];
  /** whsec_<base64> */
  secret: string;
  /** extension events carry the extension's current value */
  includeExtensions: boolean;
  description?: string;
  /** epoch ms */
  createdAt: number;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'dead';

/** One attempt to deliver one event. */
export interface DeliveryAttempt {
  eventId: number;
  kind: EventKind;
  /** 1 for the first try */
  attempt: number;
  /** epoch ms: when it was sent */
  at: number;
  /** the receiver's status; undefined without an answer (refused, timed out) */
  status?: number;
  latencyMs: number;
  error?: string;
  outcome: DeliveryOutcome;
}

/** An event waiting for another attempt: it goes out once it heads its ordering key and `nextAt` has come. */
export interface PendingDelivery {
  eventId: number;
  orderingKey: string;
  /** attempts made so far (0: queued behind an earlier event of its key) */
  attempts: number;
  /** epoch ms: when it was first due (the retry period counts from here) */
  firstAt: number;
  nextAt: number;
}

/** What one round of deliveries changes: its attempts, the events it queues, and the queued events it settled. */
export interface DeliveryRound {
  attempts: DeliveryAttempt[];
  /** failed events, and events behind one (nextAt = WAITING): inserted unless already queued */
  enqueue: PendingDelivery[];
  /** queued events that failed again: their new attempt count and time */
  reschedule: { eventId: number; attempts: number; nextAt: number }[];
  /** queued events that were delivered or dead-lettered: the next event of each of their keys is promoted */
  settled: { eventId: number; orderingKey: string; outcome: 'delivered' | 'dead' }[];
}

/** A queued event that is due, with the event (undefined once the outbox retention trimmed it). */
export interface DueDelivery extends PendingDelivery {
  event?: StoredEvent;
}

export interface WebhookProgress {
  /** the last outbox event the webhook has taken (delivered, queued or skipped) */
  position: number;
  /** events waiting for an attempt */
  pending: number;
  /** events dead-lettered (within the outbox retention) */
  dead: number;
}

export interface LoggedAttempt extends DeliveryAttempt {
  id: number;
}

/** nextAt of an event queued behind an earlier one of its key (below 2^53: exact as a JS number). */
export const WAITING = 9_000_000_000_000_000;

export const SECRET_PREFIX = 'whsec_';
export const MAX_WEBHOOKS_PER_PARTITION = 50;

/** A new secret: 32 random bytes. */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** A new webhook id: wh_ and 16 random bytes in hex. */
export function newWebhookId(): string {
  return `wh_${randomBytes(16).toString('hex')}`;
}

/** Validation error unless `secret` is whsec_ followed by the base64 of 24 to 64 bytes. */
export function checkSecret(secret: string): void {
  const body = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  const bytes = body !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? Buffer.from(body, 'base64') : undefined;
  if (!bytes || bytes.length < 24 || bytes.length > 64) throw invalid('secret must be whsec_ followed by the base64 of 24 to 64 random bytes (or be left out: contextd makes one)');
}

/** Validation error unless `url` is an absolute http(s) URL without credentials. */
export function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`url is not an absolute URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(`url must be http or https, not ${parsed.protocol.slice(0, -1)}`);
  if (parsed.username || parsed.password) throw invalid('url must not carry credentials: the signature authenticates contextd to the receiver');
}

export function checkKinds(kinds: readonly string[]): EventKind[] {
  for (const kind of kinds) if (!(EVENT_KINDS as readonly string[]).includes(kind)) throw invalid(`kinds: unknown event kind ${kind} (one of ${EVENT_KINDS.join(', ')})`);
  return [...new Set(kinds)] as EventKind[];
}

/** Whether the webhook wants the event. */
export function wants(webhook: Webhook, event: StoredEvent): boolean {
  if (webhook.kinds.length > 0 && !webhook.kinds.includes(event.kind)) return false;
  if (webhook.customerId !== undefined && webhook.customerId !== event.customerId) return false;
  if (webhook.serviceTypes.length > 0 && (event.serviceType === undefined || !webhook.serviceTypes.includes(event.serviceType))) return false;
  return true;
}

/**
 * Events of one key are delivered in event order, one at a time; different keys go out side by side.
 * A journey event's key is its service; a profile's or an erase's its customer; the rest (metadata,
 * maintenance) share one key.
 */
export function orderingKey(event: StoredEvent): string {
  if (event.serviceId !== undefined) return `s:${event.serviceId}`;
  if (event.customerId !== undefined) return `c:${event.customerId}`;
  return '-';
}

/** The webhook-id of an event's deliveries: the same on every attempt, so a receiver can drop repeats. */
export function messageId(partitionKey: string, eventId: number): string {
  return `evt_${partitionKey === '' ? '' : `${partitionKey.replace('/', '_')}_`}${eventId}`;
}

/** The Standard Webhooks signature header value of a body sent with this id at `timestampSeconds`. */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

export interface RetryPolicy {
  /** the first retry comes after about this long; each next one after twice the last */
  firstDelayMs: number;
  /** no wait is longer than this */
  maxDelayMs: number;
  /** an event still failing this long after it was first due is dead-lettered */
  retryForMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstDelayMs: 5_000, maxDelayMs: 60 * 60_000, retryForMs: 24 * 60 * 60_000 };

/**
 * When to try again after `attempts` failed attempts: exponential, with ±25 % jitter so that a
 * receiver coming back is not hit by every retry at once; undefined once the retry period is over
 * (dead-letter).
 */
export function nextAttemptAt(policy: RetryPolicy, attempts: number, firstAt: number, now: number, random = Math.random): number | undefined {
  if (now - firstAt >= policy.retryForMs) return undefined;
  const delay = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.min(attempts - 1, 30));
  return now + Math.round(delay * (0.75 + random() * 0.5));
}

export interface WebhookRequest {
  url: string;
  kinds?: string[];
  customer_id?: string;
  service_types?: (string | number)[];
  extensions?: boolean;
  secret?: string;
  description?: string;
}

/** A new webhook from a request (its shape checked by the route's schema): Validation errors name the field. */
export function parseWebhook(request: WebhookRequest, now: number): Webhook {
  checkUrl(request.url);
  if (request.secret !== undefined) checkSecret(request.secret);
  const webhook: Webhook = {
    id: newWebhookId(),
    url: request.url,
    kinds: checkKinds(request.kinds ?? []),
    serviceTypes: [...new Set((request.service_types ?? []).map(String))],
    secret: request.secret ?? newSecret(),
    includeExtensions: request.extensions ?? false,
    createdAt: now,
  };
  if (request.customer_id !== undefined) webhook.customerId = request.customer_id;
  if (request.description !== undefined) webhook.description = request.description;
  return webhook;
}
