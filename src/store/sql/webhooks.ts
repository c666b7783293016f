// Webhooks, their retry queue and their delivery log (migration 008), written once for both stores.
// Each webhook is a relay of the outbox (event_relays 'webhook:<id>', src/store/sql/relays.ts). An
// event that failed waits in webhook_retries; so does every later event of its ordering key (a
// service, a customer), with next_at = WAITING, until the one before it is delivered or dead-lettered:
// then the next one is promoted (next_at = now). The rows that are due are therefore exactly the
// heads of their keys, found by one index range.
import type { EventKind } from '../../domain/event-kinds.js';
import { invalid } from '../../domain/errors.js';
import { parseStoredJson, stringifyJson } from '../../domain/json.js';
import { WAITING, type DeliveryOutcome, type DeliveryRound, type DueDelivery, type LoggedAttempt, type Webhook, type WebhookProgress } from '../../domain/webhooks.js';
import type { ColumnType, Dialect, SqlReader, SqlWriter } from './dialect.js';
import { eventFromRow, type EventRow } from './outbox.js';
import { applyOnly, type Write } from './write.js';

export function relayOf(webhookId: string): string {
  return `webhook:${webhookId}`;
}

interface WebhookRow {
  webhook_id: string;
  url: string;
  kinds: string;
  customer_id: string | null;
  service_types: string;
  secret: string;
  include_extensions: boolean | number;
  description: string | null;
  created_at: bigint | number | string;
}

function webhookFromRow(row: WebhookRow): Webhook {
  const webhook: Webhook = {
    id: row.webhook_id,
    url: row.url,
    kinds: parseStoredJson(row.kinds) as EventKind[],
    serviceTypes: parseStoredJson(row.service_types) as string[],
    secret: row.secret,
    includeExtensions: Boolean(row.include_extensions),
    createdAt: Number(row.created_at),
  };
  if (row.customer_id !== null) webhook.customerId = row.customer_id;
  if (row.description !== null) webhook.description = row.description;
  return webhook;
}

const WEBHOOK_COLUMNS = 'webhook_id, url, kinds, customer_id, service_types, secret, include_extensions, description, created_at';

/** Creates the webhook with its relay at the newest event: it delivers what is committed from now on. */
export function createWebhook(webhook: Webhook, maxPerPartition: number): Write<void, undefined> {
  return {
    plan: async (read) => {
      const row = await read.one<{ n: bigint | number }>('SELECT COUNT(*) AS n FROM webhooks');
      if (Number(row?.n ?? 0) >= maxPerPartition) throw invalid(`at most ${maxPerPartition} webhooks per partition; delete one first`);
      return undefined;
    },
    apply: async (tx) => {
      await tx.run(`INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        webhook.id,
        webhook.url,
        stringifyJson(webhook.kinds),
        webhook.customerId ?? null,
        stringifyJson(webhook.serviceTypes),
        webhook.secret,
        // 1 / 0: better-sqlite3 binds no booleans, and PostgreSQL reads '1' / '0' as one
        webhook.includeExtensions ? 1 : 0,
        webhook.description ?? null,
        webhook.createdAt,
      ]);
      await tx.run('INSERT INTO event_relays (relay, last_id, holder, held_until) SELECT CAST(? AS TEXT), last_id, NULL, 0 FROM event_sequence', [relayOf(webhook.id)]);
    },
  };
}

export async function listWebhooks(read: SqlReader): Promise<Webhook[]> {
  return (await read.all<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, webhook_id`)).map(webhookFromRow);
}

export async function getWebhook(read: SqlReader, id: string): Promise<Webhook | undefined> {
  const row = await read.one<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE webhook_id = ?`, [id]);
  return row && webhookFromRow(row);
}

/** Deletes the webhook with its queue, its log and its relay; false when there was none. */
export function deleteWebhook(id: string): Write<boolean, undefined> {
  return applyOnly(async (tx) => {
    await tx.run('DELETE FROM event_relays WHERE relay = ?', [relayOf(id)]);
    return (await tx.run('DELETE FROM webhooks WHERE webhook_id = ?', [id])) > 0;
  });
}

// event id, kind, attempt, at, status, latency, error, outcome
const ATTEMPT_TYPES: readonly ColumnType[] = ['bigint', 'text', 'int', 'bigint', 'int', 'int', 'text', 'text'];
// event id, ordering key, attempts, first at, next at
const PENDING_TYPES: readonly ColumnType[] = ['bigint', 'text', 'int', 'bigint', 'bigint'];

/** Records a round in one transaction; nothing when the webhook was deleted meanwhile. */
export function recordRound(d: Dialect, webhookId: string, round: DeliveryRound): Write<void, undefined> {
  return applyOnly(async (tx, now) => {
    if (!(await tx.one('SELECT 1 AS one FROM webhooks WHERE webhook_id = ?', [webhookId]))) return;
    if (round.attempts.length > 0) {
      const rows = round.attempts.map((a) => [BigInt(a.eventId), a.kind, a.attempt, a.at, a.status ?? null, Math.round(a.latencyMs), a.error ?? null, a.outcome]);
      await tx.run(
        `INSERT INTO webhook_deliveries (webhook_id, event_id, kind, attempt, at, status, latency_ms, error, outcome) SELECT CAST(? AS TEXT), c0, c1, c2, c3, c4, c5, c6, c7 FROM ${d.rows(ATTEMPT_TYPES)}`,
        [webhookId, ...d.rowParams(ATTEMPT_TYPES, rows)],
      );
    }
    if (round.enqueue.length > 0) {
      const rows = round.enqueue.map((p) => [BigInt(p.eventId), p.orderingKey, p.attempts, p.firstAt, p.nextAt]);
      // WHERE TRUE: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON
      await tx.run(
        `INSERT INTO webhook_retries (webhook_id, event_id, ordering_key, attempts, first_at, next_at) SELECT CAST(? AS TEXT), c0, c1, c2, c3, c4 FROM ${d.rows(PENDING_TYPES)} WHERE TRUE ON CONFLICT (webhook_id, event_id) DO NOTHING`,
        [webhookId, ...d.rowParams(PENDING_TYPES, rows)],
      );
    }
    for (const r of round.reschedule) {
      await tx.run('UPDATE webhook_retries SET attempts = ?, next_at = ? WHERE webhook_id = ? AND event_id = ?', [r.attempts, r.nextAt, webhookId, BigInt(r.eventId)]);
    }
    for (const s of round.settled) {
      if (s.outcome === 'delivered') await tx.run('DELETE FROM webhook_retries WHERE webhook_id = ? AND event_id = ?', [webhookId, BigInt(s.eventId)]);
      else await tx.run('UPDATE webhook_retries SET dead = TRUE WHERE webhook_id = ? AND event_id = ?', [webhookId, BigInt(s.eventId)]);
      await tx.run(
        `UPDATE webhook_retries SET next_at = ? WHERE webhook_id = ? AND event_id = (SELECT MIN(event_id) FROM webhook_retries WHERE webhook_id = ? AND ordering_key = ? AND dead = FALSE)`,
        [now, webhookId, webhookId, s.orderingKey],
      );
    }
  });
}

/** Which of these ordering keys have an event waiting (their next events must queue behind it). */
export async function pendingKeys(read: SqlReader, d: Dialect, webhookId: string, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await read.all<{ ordering_key: string }>(`SELECT DISTINCT ordering_key FROM webhook_retries WHERE webhook_id = ? AND dead = FALSE AND ${d.inList('ordering_key', 'text')}`, [
    webhookId,
    d.list(keys),
  ]);
  return new Set(rows.map((r) => r.ordering_key));
}

/** The queued events due at `now` (each heads its key), the longest waiting first. */
export async function dueDeliveries(read: SqlReader, webhookId: string, now: number, limit: number): Promise<DueDelivery[]> {
  const rows = await read.all<
    Omit<EventRow, 'event_id' | 'at' | 'kind'> & {
      event_id: bigint | number | string;
      ordering_key: string;
      attempts: number;
      first_at: bigint | number | string;
      next_at: bigint | number | string;
      at: bigint | number | string | null;
      kind: string | null;
    }
  >(
    `SELECT r.event_id, r.ordering_key, r.attempts, r.first_at, r.next_at, e.at, e.kind, e.service_id, e.customer_id, e.contact_key, e.service_type, e.details
     FROM webhook_retries r LEFT JOIN events e ON e.event_id = r.event_id
     WHERE r.webhook_id = ? AND r.dead = FALSE AND r.next_at <= ? ORDER BY r.next_at LIMIT ?`,
    [webhookId, now, limit],
  );
  return rows.map((row) => {
    const due: DueDelivery = { eventId: Number(row.event_id), orderingKey: row.ordering_key, attempts: Number(row.attempts), firstAt: Number(row.first_at), nextAt: Number(row.next_at) };
    if (row.kind !== null && row.at !== null) due.event = eventFromRow({ ...row, at: row.at, kind: row.kind });
    return due;
  });
}

/** When the next queued event is due (undefined when none is). */
export async function nextDueAt(read: SqlReader, webhookId: string): Promise<number | undefined> {
  const row = await read.one<{ next_at: bigint | number | string | null }>('SELECT MIN(next_at) AS next_at FROM webhook_retries WHERE webhook_id = ? AND dead = FALSE', [webhookId]);
  return row?.next_at === null || row?.next_at === undefined || Number(row.next_at) >= WAITING ? undefined : Number(row.next_at);
}

export async function webhookProgress(read: SqlReader, webhookId: string): Promise<WebhookProgress> {
  const relay = await read.one<{ last_id: bigint | number | string }>('SELECT last_id FROM event_relays WHERE relay = ?', [relayOf(webhookId)]);
  const counts = await read.all<{ dead: boolean | number; n: bigint | number | string }>('SELECT dead, COUNT(*) AS n FROM webhook_retries WHERE webhook_id = ? GROUP BY dead', [webhookId]);
  const count = (dead: boolean) => Number(counts.find((c) => Boolean(c.dead) === dead)?.n ?? 0);
  return { position: Number(relay?.last_id ?? 0), pending: count(false), dead: count(true) };
}

interface DeliveryRow {
  delivery_id: bigint | number | string;
  event_id: bigint | number | string;
  kind: string;
  attempt: number;
  at: bigint | number | string;
  status: number | null;
  latency_ms: number;
  error: string | null;
  outcome: string;
}

/** The webhook's attempts, newest first, before the attempt `beforeId` (a page). */
export async function listDeliveries(read: SqlReader, webhookId: string, beforeId: number | undefined, limit: number): Promise<LoggedAttempt[]> {
  const rows = await read.all<DeliveryRow>(
    `SELECT delivery_id, event_id, kind, attempt, at, status, latency_ms, error, outcome FROM webhook_deliveries WHERE webhook_id = ? AND delivery_id < ? ORDER BY delivery_id DESC LIMIT ?`,
    [webhookId, BigInt(beforeId ?? Number.MAX_SAFE_INTEGER), limit],
  );
  return rows.map((row) => {
    const attempt: LoggedAttempt = {
      id: Number(row.delivery_id),
      eventId: Number(row.event_id),
      kind: row.kind as EventKind,
      attempt: Number(row.attempt),
      at: Number(row.at),
      latencyMs: Number(row.latency_ms),
      outcome: row.outcome as DeliveryOutcome,
    };
    if (row.status !== null) attempt.status = Number(row.status);
    if (row.error !== null) attempt.error = row.error;
    return attempt;
  });
}

/**
 * Sends the webhook's events again from `fromEventId` on: its relay moves back (and its lease is
 * revoked, so a delivery in flight cannot move it forward again), and queued or dead-lettered events
 * from there are dropped (they go out again through the relay).
 */
export function replayWebhook(webhookId: string, fromEventId: number): Write<void, undefined> {
  return applyOnly(async (tx) => {
    await tx.run(
      'INSERT INTO event_relays (relay, last_id, holder, held_until) VALUES (?, ?, NULL, 0) ON CONFLICT (relay) DO UPDATE SET last_id = excluded.last_id, holder = NULL, held_until = 0',
      [relayOf(webhookId), BigInt(fromEventId - 1)],
    );
    await tx.run('DELETE FROM webhook_retries WHERE webhook_id = ? AND event_id >= ?', [webhookId, BigInt(fromEventId)]);
  });
}

/** Deletes attempts logged before `before`, the oldest first, at most `batchSize`. */
export function trimDeliveries(before: number, batchSize: number): Write<number, undefined> {
  return applyOnly((tx: SqlWriter) =>
    tx.run('DELETE FROM webhook_deliveries WHERE delivery_id IN (SELECT delivery_id FROM webhook_deliveries WHERE at < ? ORDER BY at LIMIT ?)', [before, batchSize]),
  );
}
