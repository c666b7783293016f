// Journey analytics for a partition (#17). The live board: what is open now — active services by
// service type and waiting states (open states of active services) by state type — with how many,
// and how long the oldest and the median have been open. Types are shown as business-attribute names
// where the catalog maps them (map-names); a value stored under both its name and its dbid is one row.
// The board changes only with a write, and every write appends to the outbox: a board computed at
// outbox position N is exact until the position moves, so readers share it (and one computation in
// flight) until then. Ages are taken from the clock at each answer.
import { Funnel, durationStats, type DurationStats, type StateQuery } from '../domain/analytics.js';
import type { MappedEntity } from '../domain/business-attributes.js';
import type { LongOrString } from '../domain/fields.js';
import type { JourneyScope } from './journeys.js';

export interface LiveRow {
  type: LongOrString | null;
  active: number;
  oldestStartedAt: number;
  medianStartedAt: number;
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

type StoredRow = Omit<LiveRow, 'oldestAge' | 'medianAge'>;

async function liveRows(scope: JourneyScope, of: 'services' | 'states', entity: MappedEntity): Promise<StoredRow[]> {
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
      return { type: g.type, active: g.count, oldestStartedAt: g.oldest, medianStartedAt: median };
    }),
  );
  return rows.sort((a, b) => b.active - a.active || String(a.type).localeCompare(String(b.type)));
}

function withAges(rows: StoredRow[], now: number): LiveRow[] {
  return rows.map((r) => ({ ...r, oldestAge: Math.max(0, now - r.oldestStartedAt), medianAge: Math.max(0, now - r.medianStartedAt) }));
}

export async function liveBoard(scope: JourneyScope, now: number): Promise<LiveBoard> {
  const { services, states } = await atPosition(scope, ['live'], async () => {
    const [services, states] = await Promise.all([liveRows(scope, 'services', 'Service'), liveRows(scope, 'states', 'State')]);
    return { services, states };
  });
  return { at: now, services: withAges(services, now), states: withAges(states, now) };
}

/**
 * The board and the reports (time in state, outcomes, funnel) by query, each with the outbox position
 * it was computed at: exact until the position moves, so the supervisors who ask the same question
 * between two writes share one computation (and one in flight); a failed one is not kept. A few dozen
 * per scope, the least recently asked dropped first.
 */
const reports = new WeakMap<JourneyScope, Map<string, { position: number; value: Promise<unknown> }>>();
const REPORTS_KEPT = 32;

async function atPosition<T>(scope: JourneyScope, query: unknown, compute: () => Promise<T>): Promise<T> {
  const key = JSON.stringify(query);
  const position = await scope.store.lastEventId();
  let byQuery = reports.get(scope);
  if (!byQuery) reports.set(scope, (byQuery = new Map()));
  let entry = byQuery.get(key);
  byQuery.delete(key); // (re)inserted below: the map's order is the order of last use
  if (!entry || entry.position !== position) {
    const value = compute();
    const made = { position, value };
    entry = made;
    const kept = byQuery;
    value.catch(() => kept.get(key) === made && kept.delete(key));
  }
  byQuery.set(key, entry);
  if (byQuery.size > REPORTS_KEPT) byQuery.delete(byQuery.keys().next().value!);
  return entry.value as Promise<T>;
}

export interface StateRow {
  stateType: LongOrString | null;
  group?: LongOrString | null;
  started: number;
  completed: number;
  active: number;
  removed: number;
  durations?: DurationStats;
}

/**
 * Time in state over an hour-aligned window: per state type (and group) as shown — a name and its
 * dbid are one row, their counts and duration bins added (bins merge exactly) — the most started first.
 */
export function timeInState(scope: JourneyScope, query: StateQuery): Promise<StateRow[]> {
  return atPosition(scope, ['states', query], () => computeTimeInState(scope, query));
}

async function computeTimeInState(scope: JourneyScope, query: StateQuery): Promise<StateRow[]> {
  const totals = await scope.store.stateHourTotals(query);
  const show = (entity: MappedEntity, field: 'type' | 'media_type', text: string) => (text === '' ? null : (scope.catalog.display(entity, field, typeValue(text)) ?? typeValue(text)));
  const merged = new Map<string, { stateType: LongOrString | null; group?: LongOrString | null; started: number; completed: number; removed: number; sum: number; max: number; bins: Map<number, number> }>();
  for (const t of totals) {
    const stateType = show('State', 'type', t.stateType);
    const group =
      t.group === undefined
        ? undefined
        : query.groupBy === 'service_type'
          ? show('Service', 'type', String(t.group))
          : query.groupBy === 'media_type'
            ? show('State', 'media_type', String(t.group))
            : (t.group as number);
    const key = JSON.stringify([stateType, group ?? null]);
    const row = merged.get(key) ?? { stateType, group, started: 0, completed: 0, removed: 0, sum: 0, max: 0, bins: new Map<number, number>() };
    row.started += t.started;
    row.completed += t.completed;
    row.removed += t.removed;
    row.sum += t.durationSum;
    row.max = Math.max(row.max, t.durationMax);
    for (const [bin, n] of t.bins) row.bins.set(bin, (row.bins.get(bin) ?? 0) + n);
    merged.set(key, row);
  }
  return [...merged.values()]
    .map((r) => ({
      stateType: r.stateType,
      group: r.group,
      started: r.started,
      completed: r.completed,
      removed: r.removed,
      active: Math.max(0, r.started - r.completed - r.removed),
      durations: durationStats(r.bins, r.sum, r.max),
    }))
    .sort((a, b) => b.started - a.started || String(a.stateType).localeCompare(String(b.stateType)) || String(a.group).localeCompare(String(b.group)));
}

export interface OutcomeRow {
  serviceType: LongOrString | null;
  started: number;
  completed: number;
  active: number;
  removed: number;
  durations?: DurationStats;
  dispositions: { disposition: LongOrString | null; completed: number; durations?: DurationStats }[];
}

/**
 * Outcomes over an hour-aligned window: of the services started in it, per service type as shown, how
 * many completed — per disposition, with the time to complete — are still open, or were deleted open.
 */
export function outcomes(scope: JourneyScope, query: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes'>): Promise<OutcomeRow[]> {
  return atPosition(scope, ['outcomes', query], () => computeOutcomes(scope, query));
}

async function computeOutcomes(scope: JourneyScope, query: Pick<StateQuery, 'fromHour' | 'toHour' | 'serviceTypes'>): Promise<OutcomeRow[]> {
  const totals = await scope.store.serviceHourTotals(query);
  const show = (field: 'type' | 'disposition', text: string) => (text === '' ? null : (scope.catalog.display('Service', field, typeValue(text)) ?? typeValue(text)));
  type Acc = { started: number; completed: number; removed: number; sum: number; max: number; bins: Map<number, number> };
  const acc = (): Acc => ({ started: 0, completed: 0, removed: 0, sum: 0, max: 0, bins: new Map() });
  const add = (into: Acc, t: (typeof totals)[number]) => {
    into.started += t.started;
    into.completed += t.completed;
    into.removed += t.removed;
    into.sum += t.durationSum;
    into.max = Math.max(into.max, t.durationMax);
    for (const [bin, n] of t.bins) into.bins.set(bin, (into.bins.get(bin) ?? 0) + n);
  };
  const byType = new Map<string, { type: LongOrString | null; all: Acc; dispositions: Map<string, { disposition: LongOrString | null; acc: Acc }> }>();
  for (const t of totals) {
    const type = show('type', t.serviceType);
    const key = JSON.stringify(type);
    const entry = byType.get(key) ?? { type, all: acc(), dispositions: new Map() };
    add(entry.all, t);
    if (t.completed > 0) {
      const disposition = show('disposition', t.disposition);
      const dKey = JSON.stringify(disposition);
      const d = entry.dispositions.get(dKey) ?? { disposition, acc: acc() };
      add(d.acc, t);
      entry.dispositions.set(dKey, d);
    }
    byType.set(key, entry);
  }
  return [...byType.values()]
    .map((e) => ({
      serviceType: e.type,
      started: e.all.started,
      completed: e.all.completed,
      removed: e.all.removed,
      active: Math.max(0, e.all.started - e.all.completed - e.all.removed),
      durations: durationStats(e.all.bins, e.all.sum, e.all.max),
      dispositions: [...e.dispositions.values()]
        .map((d) => ({ disposition: d.disposition, completed: d.acc.completed, durations: durationStats(d.acc.bins, d.acc.sum, d.acc.max) }))
        .sort((a, b) => b.completed - a.completed || String(a.disposition).localeCompare(String(b.disposition))),
    }))
    .sort((a, b) => b.started - a.started || String(a.serviceType).localeCompare(String(b.serviceType)));
}

const FUNNEL_PAGE = 1000;
export const MAX_FUNNEL_STEPS = 10;

export interface FunnelQuery {
  serviceType: string;
  steps: string[];
  from: number;
  to: number;
}

export interface FunnelAnswer {
  serviceType: LongOrString;
  services: number;
  steps: { stateType: LongOrString; reached: number; medianFromPreviousMs?: number }[];
  stops: { afterStep: number; count: number; active: number; dispositions: { disposition: LongOrString | null; count: number }[]; lastStates: { stateType: LongOrString | null; count: number }[] }[];
}

/** The funnel of the services of one type started in [from, to): walked page by page, in constant memory. */
export function funnel(scope: JourneyScope, query: FunnelQuery): Promise<FunnelAnswer> {
  return atPosition(scope, ['funnel', query], () => computeFunnel(scope, query));
}

async function computeFunnel(scope: JourneyScope, query: FunnelQuery): Promise<FunnelAnswer> {
  const serviceTypes = scope.catalog.typeFilter('Service', [query.serviceType]);
  const counter = new Funnel(query.steps.map((step) => scope.catalog.typeFilter('State', [step])));
  let after: { startedAt: number; id: bigint } | undefined;
  for (;;) {
    const page = await scope.store.funnelPage(serviceTypes, query.from, query.to, after, FUNNEL_PAGE);
    for (const service of page) counter.add(service);
    if (page.length < FUNNEL_PAGE) break;
    const last = page[page.length - 1];
    after = { startedAt: last.startedAt, id: last.serviceId };
  }
  const show = (entity: MappedEntity, field: 'type' | 'disposition', text: string) => (text === '' ? null : (scope.catalog.display(entity, field, typeValue(text)) ?? typeValue(text)));
  const sorted = <K>(map: Map<string, number>, shown: (text: string) => K) =>
    [...map].map(([text, count]) => ({ key: shown(text), count })).sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
  return {
    serviceType: show('Service', 'type', query.serviceType) ?? query.serviceType,
    services: counter.services,
    steps: query.steps.map((step, i) => ({ stateType: show('State', 'type', step) ?? step, reached: counter.reached[i], medianFromPreviousMs: counter.medianGap(i) })),
    stops: [...counter.stops.values()]
      .sort((a, b) => a.afterStep - b.afterStep)
      .map((s) => ({
        afterStep: s.afterStep,
        count: s.count,
        active: s.active,
        dispositions: sorted(s.dispositions, (t) => show('Service', 'disposition', t)).map(({ key, count }) => ({ disposition: key, count })),
        lastStates: sorted(s.lastStates, (t) => show('State', 'type', t)).map(({ key, count }) => ({ stateType: key, count })),
      })),
  };
}
