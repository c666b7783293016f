// An Idempotency-Key's record committed with the write itself. While a request that carries a key
// runs, its writes see this context (AsyncLocalStorage, entered around the route handler): each
// write adds a "pending" record of the key — the results of the request's writes so far — in the
// same transaction (the same group-commit batch, the same savepoint) as the write. A crash after the
// commit therefore leaves the key recorded; the retry then runs the handler again with the recorded
// results, and its writes return them instead of writing twice. Once answered, the record holds the answer.
import { AsyncLocalStorage } from 'node:async_hooks';
import { parseStoredJson, stringifyJson } from '../domain/json.js';

export interface IdempotentWrites {
  key: string;
  fingerprint: string;
  /** epoch ms: a record older than this has expired and may be replaced */
  replaceBefore: number;
  /** the results of this request's writes that have committed */
  results: unknown[];
  /** a retry after a crash: what the first attempt's writes returned, in order */
  recorded?: unknown[];
}

export const idempotentWrites = new AsyncLocalStorage<IdempotentWrites>();

/** The `status` of a record whose answer is not known yet (its writes committed). */
export const PENDING_STATUS = 0;

/** Write results as JSON, bigints tagged so they come back as bigints. */
export function encodeResults(results: unknown[]): string {
  return stringifyJson(results.map((r) => (typeof r === 'bigint' ? { $bigint: r.toString() } : r === undefined ? null : r)));
}

export function decodeResults(text: string): unknown[] {
  return (parseStoredJson(text) as unknown[]).map((r) =>
    r !== null && typeof r === 'object' && typeof (r as { $bigint?: unknown }).$bigint === 'string' ? BigInt((r as { $bigint: string }).$bigint) : r === null ? undefined : r,
  );
}

/** On a retry after a crash, the next write's recorded result: the write is not made again. */
export function replayedResult(context: IdempotentWrites | undefined): { value: unknown } | undefined {
  if (!context?.recorded || context.results.length >= context.recorded.length) return undefined;
  const value = context.recorded[context.results.length];
  context.results.push(value);
  return { value };
}

/** The pending record to write beside a write that returned `value` (the context takes it once committed). */
export function pendingRecord(context: IdempotentWrites, value: unknown, now: number) {
  return {
    key: context.key,
    fingerprint: context.fingerprint,
    status: PENDING_STATUS,
    body: encodeResults([...context.results, value]),
    createdAt: now,
    replaceBefore: context.replaceBefore,
  };
}

/** After the commit: the write's result is part of the request's record (if it has one). */
export function committed(context: IdempotentWrites | undefined, value: unknown): void {
  context?.results.push(value);
}
