// The outbox: the events of each committed write, appended in the write's own transaction
// (runBatch calls appendEvents last, just before COMMIT). Ids come from one counter row: taking it
// holds the row until COMMIT, so on PostgreSQL batches on other connections or nodes take their ids
// after this one committed — ids increase in commit order, and a reader that has seen id N never
// later finds an id below N appear. (SQLite has one writer at a time anyway.)
import type { EventDetails, EventDraft, EventFilter, EventKind, StoredEvent } from '../../domain/event-kinds.js';
import { parseStoredJson, stringifyJson } from '../../domain/json.js';
import type { ColumnType, Dialect, SqlReader, SqlWriter } from './dialect.js';

// event id, kind, service id, customer id, contact key, service type, details, rollup
const EVENT_ROW_TYPES: readonly ColumnType[] = ['bigint', 'text', 'bigint', 'text', 'text', 'text', 'text', 'text'];
const EVENT_COLUMNS = 'event_id, at, kind, service_id, customer_id, contact_key, service_type, details';

export interface EventRow {
  event_id: bigint | number | string;
  at: bigint | number | string;
  kind: string;
  service_id: bigint | number | string | null;
  customer_id: string | null;
  contact_key: string | null;
  service_type: string | null;
  details: string;
}

/**
 * Appends the batch's events, in order, each with the owner its write read while planning; the last
 * carries the batch's rollup deltas (encodeDeltas), which the fold adds to the rollup rows later.
 */
export async function appendEvents(tx: SqlWriter, d: Dialect, drafts: readonly EventDraft[], now: number, rollup?: string): Promise<void> {
  if (drafts.length === 0) return;
  const n = BigInt(drafts.length);
  // c0: the event's place in the batch; its id is the counter's value before the batch + 1 + c0
  const rows = drafts.map((draft, i) => [
    BigInt(i),
    draft.kind,
    draft.serviceId ?? null,
    draft.customerId ?? null,
    draft.contactKey ?? null,
    draft.serviceType ?? null,
    draft.details ? stringifyJson(draft.details) : '{}',
    i === drafts.length - 1 ? (rollup ?? null) : null,
  ]);
  const insert = (first: string) =>
    `INSERT INTO events (${EVENT_COLUMNS}, rollup) SELECT ${first} + c0, CAST(? AS BIGINT), c1, c2, c3, c4, c5, c6, c7 FROM ${d.rows(EVENT_ROW_TYPES)}`;
  const missing = () => new Error('the event sequence is missing (the store is not migrated)');
  if (d.writableWith) {
    // one statement, one round trip to the server: the counter taken and the events written
    const written = await tx.run(
      `WITH taken AS (UPDATE event_sequence SET last_id = last_id + ? RETURNING last_id) ${insert('(SELECT last_id FROM taken) - ? + 1')}`,
      [n, n, now, ...d.rowParams(EVENT_ROW_TYPES, rows)],
    );
    if (written !== drafts.length) throw missing();
    return;
  }
  const row = await tx.one<{ last_id: bigint | number | string }>('UPDATE event_sequence SET last_id = last_id + ? RETURNING last_id', [n]);
  if (!row) throw missing();
  await tx.run(insert('CAST(? AS BIGINT)'), [BigInt(row.last_id) - n + 1n, now, ...d.rowParams(EVENT_ROW_TYPES, rows)]);
}

/** The events after `afterId` that match, oldest first, at most `limit`. */
export async function readEvents(read: SqlReader, d: Dialect, filter: EventFilter, afterId: number, limit: number): Promise<StoredEvent[]> {
  let sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE event_id > ?`;
  const params: unknown[] = [BigInt(afterId)];
  if (filter.kinds && filter.kinds.length > 0) {
    sql += ` AND ${d.inList('kind', 'text')}`;
    params.push(d.list(filter.kinds));
  }
  if (filter.serviceId !== undefined) {
    sql += ' AND service_id = ?';
    params.push(filter.serviceId);
  }
  if (filter.customerId !== undefined) {
    sql += ' AND customer_id = ?';
    params.push(filter.customerId);
  }
  if (filter.contactKey !== undefined) {
    sql += ' AND contact_key = ?';
    params.push(filter.contactKey);
  }
  sql += ' ORDER BY event_id LIMIT ?';
  params.push(limit);
  return (await read.all<EventRow>(sql, params)).map(eventFromRow);
}

/** The id of the newest committed event (0 before the first). */
export async function lastEventId(read: SqlReader): Promise<number> {
  const row = await read.one<{ last_id: bigint | number | string }>('SELECT last_id FROM event_sequence');
  return Number(row?.last_id ?? 0);
}

/**
 * Deletes events recorded before `before`, the oldest first, at most `batchSize`: it looks at the
 * `batchSize` oldest rows only (by id), so a trim costs the same however long the outbox is. It stops
 * at the rollup fold's position: an event whose deltas are not in the rollup rows yet is kept.
 */
export async function trimEvents(tx: SqlWriter, before: number, batchSize: number): Promise<number> {
  return tx.run(TRIM_EVENTS, [before, batchSize, before]);
}

/** The trim's statement (the plan test EXPLAINs this text). */
export const TRIM_EVENTS =
  'DELETE FROM events WHERE at < ? AND event_id <= (SELECT max(event_id) FROM (SELECT event_id, at FROM events ORDER BY event_id LIMIT ?) head WHERE at < ?) AND event_id <= (SELECT last_event_id FROM rollup_position WHERE one = 1)';

export function eventFromRow(row: EventRow): StoredEvent {
  const event: StoredEvent = { id: Number(row.event_id), at: Number(row.at), kind: row.kind as EventKind, details: parseStoredJson(row.details) as EventDetails };
  if (row.service_id !== null) event.serviceId = BigInt(row.service_id);
  if (row.customer_id !== null) event.customerId = row.customer_id;
  if (row.contact_key !== null) event.contactKey = row.contact_key;
  if (row.service_type !== null) event.serviceType = row.service_type;
  return event;
}
