// Expiration (cview/expiration, per service type, per service) and auto-complete rules.
import { invalid } from './errors.js';

/** `<integer><unit>`: s m h d w M (30 days) y (365 days); m and M are case-sensitive. */
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, M: 30 * 86_400_000, y: 365 * 86_400_000 };

export const DEFAULT_EXPIRATION = '5y';

export function parseLifetime(field: string, text: unknown): number {
  const m = typeof text === 'string' ? /^(\d+)([smhdwMy])$/.exec(text) : null;
  if (!m) throw invalid(`${field} must be <integer><unit> with unit s, m, h, d, w, M or y (e.g. 5y), got ${JSON.stringify(text)}`);
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
