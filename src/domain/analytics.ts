// Time in state and outcomes (#17): each state (and each service) counts in the hour it started — started, completed, removed
// (deleted while open) — with the sum and the maximum of the durations of those completed, and the
// durations themselves as DDSketch bins (@datadog/sketches-js, relative accuracy 1 %): a bin's count
// per hour, per state type, service type and media type. Bins of any set of hours add up, so any
// hour-aligned window's quantiles come from one sum per bin, within the sketch's stated error.
import { DDSketch } from '@datadog/sketches-js';
import { invalid } from './errors.js';
import type { ElementDoc } from './lifecycle.js';
import { typeKey, type LongOrString } from './fields.js';

/** The quantiles' stated error: a reported duration is within 1 % of the true one. */
export const RELATIVE_ACCURACY = 0.01;
export const HOUR_MS = 3_600_000;
/** the bin of zero-length durations (the sketch's own bins are ≥ 0 for durations ≥ 1 ms) */
const ZERO_BIN = -1;
/** at most this long a window (a year and a day) */
const MAX_WINDOW_HOURS = 366 * 24;

const mapping = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }).mapping;

/** The rollups: states by start hour, state type, service type and media type; services by start hour, service type and disposition. */
export type RollupKind = 'state' | 'service';

export interface HourDelta {
  kind: RollupKind;
  /** epoch hour of the element's start */
  hour: number;
  /** state: [state type, service type, media type]; service: [service type, disposition] — text forms, '' when absent */
  keys: string[];
  started: number;
  completed: number;
  removed: number;
  durationSum: number;
  durationMax: number;
  /** duration bin → count */
  bins: Map<number, number>;
}

export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

const text = (value: LongOrString | undefined) => typeKey(value) ?? '';

export function durationBin(ms: number): number {
  return ms < 1 ? ZERO_BIN : mapping.key(ms);
}

function delta(kind: RollupKind, hour: number, keys: string[]): HourDelta {
  return { kind, hour, keys, started: 0, completed: 0, removed: 0, durationSum: 0, durationMax: 0, bins: new Map() };
}

function completed(d: HourDelta, doc: ElementDoc): HourDelta {
  const duration = Math.max(0, Date.parse(doc.completed!.timestamp) - Date.parse(doc.started.timestamp));
  d.completed = 1;
  d.durationSum = duration;
  d.durationMax = duration;
  d.bins.set(durationBin(duration), 1);
  return d;
}

/** A state started (its start time, types and media type). */
export function stateStarted(startedAt: number, stateType: LongOrString | undefined, serviceType: string | undefined, mediaType: LongOrString | undefined): HourDelta {
  const d = delta('state', hourOf(startedAt), [text(stateType), serviceType ?? '', text(mediaType)]);
  d.started = 1;
  return d;
}

/** A state completed: `doc` is its completed document. */
export function stateCompleted(doc: ElementDoc, serviceType: string | undefined): HourDelta {
  return completed(delta('state', hourOf(Date.parse(doc.started.timestamp)), [text(doc.type), serviceType ?? '', text(doc.started.media_type)]), doc);
}

/** A service started: it counts under no disposition until it completes. */
export function serviceStarted(startedAt: number, serviceType: LongOrString | undefined): HourDelta {
  const d = delta('service', hourOf(startedAt), [text(serviceType), '']);
  d.started = 1;
  return d;
}

/** A service completed: `doc` is its completed document (its disposition, '' for none). */
export function serviceCompleted(doc: ElementDoc): HourDelta {
  return completed(delta('service', hourOf(Date.parse(doc.started.timestamp)), [text(doc.type), text(doc.disposition)]), doc);
}

/** The deltas of a batch, one per kind and key, in key order. */
export function mergeDeltas(deltas: readonly HourDelta[]): HourDelta[] {
  const merged = new Map<string, HourDelta>();
  for (const d of deltas) {
    const key = JSON.stringify([d.kind, d.hour, ...d.keys]);
    const into = merged.get(key);
    if (!into) {
      merged.set(key, { ...d, bins: new Map(d.bins) });
      continue;
    }
    into.started += d.started;
    into.completed += d.completed;
    into.removed += d.removed;
    into.durationSum += d.durationSum;
    into.durationMax = Math.max(into.durationMax, d.durationMax);
    for (const [bin, n] of d.bins) into.bins.set(bin, (into.bins.get(bin) ?? 0) + n);
  }
  // in key order: concurrent batches lock the rows they share in the same order
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

type EncodedDelta = [RollupKind, number, string[], number, number, number, number, number, [number, number][]];

/** A batch's merged deltas as its last event carries them (events.rollup) until the fold adds them to the rows. */
export function encodeDeltas(deltas: readonly HourDelta[]): string {
  return JSON.stringify(deltas.map((d): EncodedDelta => [d.kind, d.hour, d.keys, d.started, d.completed, d.removed, d.durationSum, d.durationMax, [...d.bins]]));
}

export function decodeDeltas(text: string): HourDelta[] {
  return (JSON.parse(text) as EncodedDelta[]).map(([kind, hour, keys, started, completed, removed, durationSum, durationMax, bins]) => ({
    kind,
    hour,
    keys,
    started,
    completed,
    removed,
    durationSum,
    durationMax,
    bins: new Map(bins),
  }));
}

export interface StateHourTotals {
  stateType: string;
  /** the group's value (text, or the hour / day number) when grouped */
  group?: string | number;
  started: number;
  completed: number;
  removed: number;
  durationSum: number;
  durationMax: number;
  bins: [number, number][];
}

export interface ServiceHourTotals {
  serviceType: string;
  disposition: string;
  started: number;
  completed: number;
  removed: number;
  durationSum: number;
  durationMax: number;
  bins: [number, number][];
}

export interface FunnelService {
  serviceId: bigint;
  startedAt: number;
  completed: boolean;
  /** text form; undefined while open or when completed without one */
  disposition?: string;
  /** its states' types (text) and start times, in start order */
  states: { type: string; startedAt: number }[];
}

export interface DurationStats {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

/** Quantiles (within RELATIVE_ACCURACY), mean and max of the durations whose bins, sum and max these are. */
export function durationStats(bins: Iterable<[number, number]>, sum: number, max: number): DurationStats | undefined {
  const sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
  let count = 0;
  for (const [bin, n] of bins) {
    if (n <= 0) continue;
    sketch.accept(bin === ZERO_BIN ? 0 : mapping.value(bin), n);
    count += n;
  }
  if (count === 0) return undefined;
  // a quantile is never above the true maximum (the bin's middle may be)
  const at = (q: number) => Math.min(max, sketch.getValueAtQuantile(q));
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: sum / count, max };
}

export const GROUPS = ['service_type', 'media_type', 'hour', 'day'] as const;
export type StateGroup = (typeof GROUPS)[number];

export interface StateQuery {
  /** epoch hours, [fromHour, toHour) */
  fromHour: number;
  toHour: number;
  serviceTypes: string[];
  stateTypes: string[];
  groupBy?: StateGroup;
}

/** A window from `from` and `to` (ISO 8601), the last 24 hours by default, at most MAX_WINDOW_HOURS; epoch ms. */
export function parseWindow(query: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const time = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const ms = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw invalid(`${name} must be an ISO 8601 date-time, got ${value}`);
    return ms;
  };
  const to = time('to', query.to, now);
  const from = time('from', query.from, to - 24 * HOUR_MS);
  if (from >= to) throw invalid('from must be before to');
  if (to - from > MAX_WINDOW_HOURS * HOUR_MS) throw invalid(`the window may be at most ${MAX_WINDOW_HOURS / 24} days`);
  return { from, to };
}

/**
 * A window from the query: `from` rounded down and `to` rounded up to whole hours (the rollups' grain);
 * the default is the last 24 hours up to the end of the current one.
 */
export function parseStateQuery(query: { from?: string; to?: string; group_by?: string }, lists: { serviceTypes: string[]; stateTypes: string[] }, now: number): StateQuery {
  const { from, to } = parseWindow(query, now);
  const fromHour = hourOf(from);
  const toHour = Math.ceil(to / HOUR_MS);
  if (toHour <= fromHour) throw invalid('from must be before to');
  if (toHour - fromHour > MAX_WINDOW_HOURS) throw invalid(`the window may be at most ${MAX_WINDOW_HOURS / 24} days`);
  const groupBy = query.group_by;
  if (groupBy !== undefined && !(GROUPS as readonly string[]).includes(groupBy)) throw invalid(`group_by must be one of ${GROUPS.join(', ')}, got ${groupBy}`);
  return { fromHour, toHour, ...lists, groupBy: groupBy as StateGroup | undefined };
}

export interface FunnelStop {
  /** how many steps they reached (0: not even the first) */
  afterStep: number;
  count: number;
  /** still open */
  active: number;
  /** completed, by disposition text ('' for none) */
  dispositions: Map<string, number>;
  /** by the type of their last state ('' for a service without states) */
  lastStates: Map<string, number>;
}

/**
 * A funnel over services walked in start order: a service reaches step i+1 when one of its states
 * after the one that reached step i matches it (each step matches a set of stored type texts, a name
 * and its dbid). Counts are exact; the median time between steps comes from a DDSketch (1 %).
 */
export class Funnel {
  services = 0;
  readonly reached: number[];
  private readonly gaps: DDSketch[];
  readonly stops = new Map<number, FunnelStop>();

  constructor(private readonly steps: readonly (readonly string[])[]) {
    this.reached = steps.map(() => 0);
    this.gaps = steps.map(() => new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }));
  }

  add(service: FunnelService): void {
    this.services++;
    let step = 0;
    let previous = 0;
    for (const state of service.states) {
      if (step === this.steps.length) break;
      if (!this.steps[step].includes(state.type)) continue;
      this.reached[step]++;
      if (step > 0) this.gaps[step].accept(Math.max(0, state.startedAt - previous));
      previous = state.startedAt;
      step++;
    }
    if (step === this.steps.length) return;
    const stop = this.stops.get(step) ?? { afterStep: step, count: 0, active: 0, dispositions: new Map(), lastStates: new Map() };
    stop.count++;
    if (!service.completed) stop.active++;
    else stop.dispositions.set(service.disposition ?? '', (stop.dispositions.get(service.disposition ?? '') ?? 0) + 1);
    const last = service.states.at(-1)?.type ?? '';
    stop.lastStates.set(last, (stop.lastStates.get(last) ?? 0) + 1);
    this.stops.set(step, stop);
  }

  /** The median time from step i-1 to step i (ms; undefined for the first step or when nobody got there). */
  medianGap(step: number): number | undefined {
    return step === 0 || this.gaps[step].count === 0 ? undefined : this.gaps[step].getValueAtQuantile(0.5);
  }
}
