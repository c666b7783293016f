// Expiration (cview/expiration, per service type, per service) and auto-complete rules.
import { invalid } from './errors.js';
import { formatTimestamp, showValue } from './fields.js';
import type { ElementEnd, ServiceStart } from './records.js';

/** `<integer><unit>`: s m h d w M (30 days) y (365 days); m and M are case-sensitive. */
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, M: 30 * 86_400_000, y: 365 * 86_400_000 };

export const DEFAULT_EXPIRATION = '5y';

export function parseLifetime(field: string, text: unknown): number {
  const m = typeof text === 'string' ? /^(\d+)([smhdwMy])$/.exec(text) : null;
  if (!m) throw invalid(`${field} must be <integer><unit> with unit s, m, h, d, w, M or y (e.g. 5y), got ${showValue(text)}`);
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * How a service expires. `lifetimeMs`: the service expires that long after its last write (every
 * write to it or its states and tasks re-arms it). `fixedAt`: it expires at that instant, writes or
 * not. A later ttl or expiration_time replaces the earlier rule.
 */
export interface Expiry {
  lifetimeMs?: number;
  fixedAt?: number;
}

/** A service with no rule of its own expires this long after its last write (the 5-year default). */
export const DEFAULT_LIFETIME_MS = parseLifetime('expiration', DEFAULT_EXPIRATION);

/** The expiry of a new service written at `now`. */
export function expiryOnInsert(expiry: Expiry | undefined, now: number): { lifetimeMs: number; fixed: boolean; expiresAt: number } {
  const lifetimeMs = expiry?.lifetimeMs ?? DEFAULT_LIFETIME_MS;
  const fixedAt = expiry?.fixedAt;
  return { lifetimeMs, fixed: fixedAt !== undefined, expiresAt: fixedAt ?? now + lifetimeMs };
}

/** The idle time after which a service completes by itself, if its start asked for one. */
export function autoCompleteAfterMs(start: ServiceStart): number | null {
  const seconds = start.started.auto_complete_after;
  return seconds === undefined ? null : seconds * 1000;
}

/** The end event an auto-completion writes: the time it happened, nothing else. */
export function autoCompletion(now: number): ElementEnd {
  return { completed: { timestamp: formatTimestamp(now) }, completedAt: now, extensions: new Map(), automatic: true };
}
