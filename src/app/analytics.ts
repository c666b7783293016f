// Journey analytics for a partition (#17). The live board: what is open now — active services by
// service type and waiting states (open states of active services) by state type — with how many,
// and how long the oldest and the median have been open. Types are shown as business-attribute names
// where the catalog maps them (map-names); a value stored under both its name and its dbid is one row.
import type { MappedEntity } from '../domain/business-attributes.js';
import type { LongOrString } from '../domain/fields.js';
import type { JourneyScope } from './journeys.js';

export interface LiveRow {
  type: LongOrString | null;
  active: number;
  oldestStartedAt: number;
  /** ms */
  oldestAge: number;
  medianAge: number;
}

export interface LiveBoard {
  at: number;
  services: LiveRow[];
  states: LiveRow[];
}

/** A stored type's text as the client sent it: a number when it is one JS numbers hold exactly. */
function typeValue(text: string): LongOrString {
  return /^-?[0-9]{1,15}$/.test(text) ? Number(text) : text;
}

async function liveRows(scope: JourneyScope, of: 'services' | 'states', entity: MappedEntity, now: number): Promise<LiveRow[]> {
  const counts = await scope.store.liveCounts(of);
  // one row per type as shown: a name and its dbid are the same type
  const byShown = new Map<string, { type: LongOrString | null; stored: (string | null)[]; count: number; oldest: number }>();
  for (const { type, count, oldest } of counts) {
    const shown = type === null ? null : (scope.catalog.display(entity, 'type', typeValue(type)) ?? typeValue(type));
    const key = shown === null ? '\u0000' : `${typeof shown}:${shown}`;
    const row = byShown.get(key);
    if (row) {
      row.stored.push(type);
      row.count += count;
      row.oldest = Math.min(row.oldest, oldest);
    } else byShown.set(key, { type: shown, stored: [type], count, oldest });
  }
  const rows = await Promise.all(
    [...byShown.values()].map(async (g) => {
      const median = await scope.store.liveMedian(of, g.stored, g.count);
      return { type: g.type, active: g.count, oldestStartedAt: g.oldest, oldestAge: Math.max(0, now - g.oldest), medianAge: Math.max(0, now - median) };
    }),
  );
  return rows.sort((a, b) => b.active - a.active || String(a.type).localeCompare(String(b.type)));
}

export async function liveBoard(scope: JourneyScope, now: number): Promise<LiveBoard> {
  const [services, states] = await Promise.all([liveRows(scope, 'services', 'Service', now), liveRows(scope, 'states', 'State', now)]);
  return { at: now, services, states };
}
