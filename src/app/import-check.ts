// One import record checked as the requests that would have built it (#19): its JSON read with the
// 64-bit-exact parser, read back into starts and ends (domain/import.ts), then checked against the
// business attributes and the extension schemas, and turned into the rows the store writes
// (store/import-rows.ts). Pure: an import runs it in worker threads (import-worker.ts) while the
// store writes the batches before, and it needs nothing but its inputs.
import type { BusinessAttributeCatalog } from '../domain/business-attributes.js';
import { DomainError, invalid } from '../domain/errors.js';
import type { HourDelta } from '../domain/analytics.js';
import { parseImportedService, type ImportedService } from '../domain/import.js';
import { parseJsonText } from '../domain/json.js';
import type { Extensions } from '../domain/records.js';
import { importRowsOf, mergedDeltas, type ImportRows } from '../store/import-rows.js';

export type Validators = Record<'services' | 'states' | 'tasks', (extensions: Extensions) => Extensions>;

/** A record of the file: 1 = the first. */
export interface RecordText {
  position: number;
  text: string;
}

/** A record checked: its rows ready for the store, or refused with the reason (and the file's service id, when it could be read). */
export type CheckedRecord = { position: number; rows: ImportRows } | { position: number; reason: string; serviceId?: string };

/** A batch checked: each record in order, and what the ready ones add to the rollups, merged (store/import-rows.ts). */
export interface CheckedBatch {
  checked: CheckedRecord[];
  deltas: string;
}

/** Reads and checks one record; a DomainError says why it is refused. The service's lifetime is left to the caller (the scope's). */
export function checkRecord(catalog: BusinessAttributeCatalog, validate: Validators, text: string, now: number): ImportedService {
  let raw: unknown;
  let record: ImportedService;
  try {
    raw = parseJsonText(text);
  } catch (error) {
    throw invalid(error instanceof RangeError ? 'nested too deeply' : 'not valid JSON');
  }
  try {
    record = parseImportedService(raw, now);
  } catch (error) {
    // a hostile record nested thousands deep overflows the stack of whatever walks it
    if (error instanceof RangeError) throw invalid('nested too deeply');
    throw error;
  }
  catalog.checkServiceStart(record.start);
  if (record.end) catalog.checkEnd('Service', record.end);
  record.start.extensions = validate.services(record.start.extensions);
  for (const state of record.states) {
    catalog.checkStateStart(state.start);
    if (state.end) catalog.checkEnd('State', state.end);
    state.start.extensions = validate.states(state.start.extensions);
  }
  for (const task of record.tasks) {
    catalog.checkTaskStart(task.start);
    if (task.end) catalog.checkEnd('Task', task.end);
    task.start.extensions = validate.tasks(task.start.extensions);
  }
  return record;
}

/** Checks a batch of records: each one's rows, or refused with its reason. Any other error is a bug, thrown. */
export function checkBatch(catalog: BusinessAttributeCatalog, validate: Validators, records: readonly RecordText[], now: number): CheckedBatch {
  const deltas: HourDelta[][] = [];
  const checked = records.map(({ position, text }): CheckedRecord => {
    try {
      const built = importRowsOf(checkRecord(catalog, validate, text, now));
      deltas.push(built.deltas);
      return { position, rows: built.rows };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const serviceId = /"service_id"\s*:\s*"?([^",}]*)/.exec(text.slice(0, 200))?.[1];
      return { position, reason: error.message, ...(serviceId === undefined ? {} : { serviceId }) };
    }
  });
  return { checked, deltas: mergedDeltas(deltas) };
}
