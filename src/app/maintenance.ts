// Maintenance operations with their audit records, the same from HTTP and from the command line:
// a purge or an export that leaves no trace in the audit log cannot happen by either way.
import type { ExportRequest, PurgeOperation } from '../domain/maintenance.js';
import { exportChunks } from './export.js';
import type { ViewContext } from './views.js';
import type { Store } from '../store/store.js';

/** Who asked: the authenticated user over HTTP (`anonymous` with roles off), `cli:<login>` from the command line. */
export type Actor = string;

/** Purges in bounded batches (`onProgress` after each, with the count so far), then records the purge (operation and count) in the audit log. */
export async function purgeServices(store: Store, operation: PurgeOperation, before: number, actor: Actor, now: () => number, onProgress?: (purged: number) => void): Promise<number> {
  const purged = await store.purgeServices(operation, before, undefined, onProgress);
  await store.appendAudit({ at: now(), actor, action: 'services.purge', subject: operation, counts: { services: purged } });
  return purged;
}

/** Streams an export (`onProgress` with the count so far); once the last chunk is out, records it (with how many services) in the audit log. */
export async function* exportServices(ctx: ViewContext, request: ExportRequest, actor: Actor, now: () => number, onProgress?: (services: number) => void): AsyncGenerator<string> {
  let services = 0;
  const counted = (count: number) => {
    services += count;
    onProgress?.(services);
  };
  for await (const chunk of exportChunks(ctx, request, counted)) yield chunk;
  await ctx.store.appendAudit({ at: now(), actor, action: 'services.export', subject: request.content ? 'content' : 'ids', counts: { services } });
}
