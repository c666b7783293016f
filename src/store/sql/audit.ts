// The audit log (erasures, exports, purges), written once for both stores.
import { parseStoredJson, stringifyJson } from '../../domain/json.js';
import type { AuditRecord } from '../store.js';
import type { SqlReader, SqlWriter } from './dialect.js';

export async function insertAudit(tx: SqlWriter, record: AuditRecord): Promise<void> {
  await tx.run('INSERT INTO audit_log (at, actor, action, subject, counts) VALUES (?, ?, ?, ?, ?)', [
    record.at,
    record.actor,
    record.action,
    record.subject ?? null,
    stringifyJson(record.counts),
  ]);
}

/** Newest first. */
export async function listAudit(read: SqlReader, limit: number): Promise<AuditRecord[]> {
  const rows = await read.all<{ audit_id: bigint | number; at: bigint | number; actor: string; action: AuditRecord['action']; subject: string | null; counts: string }>(
    'SELECT audit_id, at, actor, action, subject, counts FROM audit_log ORDER BY audit_id DESC LIMIT ?',
    [limit],
  );
  return rows.map((r) => ({
    id: Number(r.audit_id),
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    ...(r.subject === null ? {} : { subject: r.subject }),
    counts: parseStoredJson(r.counts) as Record<string, number>,
  }));
}
