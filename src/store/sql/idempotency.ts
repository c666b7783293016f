// Recorded answers to requests that carried an Idempotency-Key, written once for both stores.
import { PENDING_STATUS } from '../idempotent-writes.js';
import type { IdempotentResponse } from '../store.js';
import type { SqlReader, SqlWriter } from './dialect.js';

interface IdempotentRow {
  idem_key: string;
  fingerprint: string;
  status: number | bigint;
  location: string | null;
  body: string;
  created_at: number | bigint;
}

export async function getIdempotentResponse(read: SqlReader, key: string, notBefore: number): Promise<IdempotentResponse | undefined> {
  const row = await read.one<IdempotentRow>('SELECT idem_key, fingerprint, status, location, body, created_at FROM idempotency_keys WHERE idem_key = ? AND created_at >= ?', [
    key,
    notBefore,
  ]);
  if (!row) return undefined;
  return {
    key: row.idem_key,
    fingerprint: row.fingerprint,
    status: Number(row.status),
    ...(row.location === null ? {} : { location: row.location }),
    body: row.body,
    createdAt: Number(row.created_at),
  };
}

/** The first answer for a key stays; a pending record (or an expired one, before `replaceBefore`) gives way to a newer one. */
export async function upsertIdempotent(tx: SqlWriter, r: Omit<IdempotentResponse, 'location'> & { location?: string; replaceBefore: number }): Promise<void> {
  await tx.run(
    `INSERT INTO idempotency_keys (idem_key, fingerprint, status, location, body, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status, location = excluded.location, body = excluded.body, created_at = excluded.created_at
       WHERE idempotency_keys.created_at < ? OR (idempotency_keys.status = ${PENDING_STATUS} AND idempotency_keys.fingerprint = excluded.fingerprint)`,
    [r.key, r.fingerprint, r.status, r.location ?? null, r.body, r.createdAt, r.replaceBefore],
  );
}

/** Deletes answers recorded before `before`, at most `batchSize`; returns how many. */
export function sweepIdempotent(tx: SqlWriter, before: number, batchSize: number): Promise<number> {
  return tx.run('DELETE FROM idempotency_keys WHERE idem_key IN (SELECT idem_key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)', [before, batchSize]);
}
