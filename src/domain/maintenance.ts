// Purge and export requests (spec reference §2.4): validated once, for the HTTP routes and the CLI.
import { invalid } from './errors.js';
import { readQueryBoolean, readTimestamp, showValue } from './fields.js';

/** The five documented purge operations; each is limited to services started before `before`. */
export const PURGE_OPERATIONS = [
  'purge.service.all',
  'purge.service.started',
  'purge.service.started.anonymous',
  'purge.service.completed',
  'purge.service.completed.anonymous',
] as const;
export type PurgeOperation = (typeof PURGE_OPERATIONS)[number];

export interface ExportFilter {
  /** epoch ms, inclusive */
  from: number;
  /** epoch ms, exclusive */
  to: number;
  /** which event must fall in [from, to) */
  events: 'any' | 'started' | 'completed';
  state: 'any' | 'active' | 'inactive';
}

/** How the caller names a request field in its messages: the HTTP field itself, or a command's flag. */
export type FieldNames = (field: string) => string;
const asGiven: FieldNames = (field) => field;

export function parsePurge(raw: unknown, name: FieldNames = asGiven): { operation: PurgeOperation; before: number } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('the request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  if (body.limit === undefined) throw invalid(`${name('limit')} is mandatory: the cut-off date-time (services started before it)`);
  const before = readTimestamp(name('limit'), body.limit);
  if (!PURGE_OPERATIONS.includes(body.operation as PurgeOperation)) {
    throw invalid(`${name('operation')} must be one of ${PURGE_OPERATIONS.join(', ')}, got ${showValue(body.operation)}`);
  }
  return { operation: body.operation as PurgeOperation, before };
}

export interface ExportRequest {
  filter: ExportFilter;
  content: boolean;
}

export function parseExport(query: Record<string, unknown>, nowMs: number, name: FieldNames = asGiven): ExportRequest {
  if (query.time_from === undefined) throw invalid(`${name('time_from')} is mandatory`);
  const from = readTimestamp(name('time_from'), query.time_from);
  const to = query.time_to === undefined ? nowMs : readTimestamp(name('time_to'), query.time_to);
  const events = query.filter_events ?? 'any';
  if (events !== 'any' && events !== 'started' && events !== 'completed') throw invalid(`${name('filter_events')} must be any, started or completed, got ${showValue(events)}`);
  const content = readQueryBoolean(name('export_content'), query.export_content);
  const state = query.filter_state ?? 'any';
  if (state !== 'any' && state !== 'active' && state !== 'inactive') throw invalid(`${name('filter_state')} must be any, active or inactive, got ${showValue(state)}`);
  if (state !== 'any' && !content) throw invalid(`${name('filter_state')} is only allowed with ${name('export_content=true')}`);
  return { filter: { from, to, events, state }, content };
}
