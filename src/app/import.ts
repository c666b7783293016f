// Bulk import (#19), the same from HTTP (POST /maintenance/services/import) and the command line
// (`contextd import FILE`): a stream of exported services — a JSON array as an export writes it, or
// NDJSON, one service per line — read a record at a time (constant memory at any size), each checked
// as the requests that would have built it (import-check.ts), and written in batches of whole
// services. The checks run in worker threads (import-worker.ts) while the store writes the batches
// before. A record that fails is reported with its position and reason and leaves nothing behind;
// the others go in. The import is audited.
import { availableParallelism } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { invalid } from '../domain/errors.js';
import { serviceIdsOf } from '../domain/tenancy.js';
import { packagePath } from '../package-root.js';
import type { ImportOutcome } from '../store/store.js';
import type { ImportRows } from '../store/import-rows.js';
import type { CheckedBatch, RecordText } from './import-check.js';
import type { CheckerSetup, CheckRequest } from './import-worker.js';
import type { JourneyScope } from './journeys.js';
import type { Actor } from './maintenance.js';

/** Services written per store transaction. */
export const IMPORT_BATCH = 2000;
/**
 * A batch is also cut once its records' text reaches this size: records may be large (up to
 * MAX_RECORD_BYTES each), and an import holds a batch per worker and one being written, so memory
 * stays bounded whatever the file. Exported services of a few kilobytes fill IMPORT_BATCH first.
 */
export const IMPORT_BATCH_TEXT = 4 * 1024 * 1024;
/**
 * Worker threads that check records (and build their rows) while the store writes: one per core, at
 * most 4 (each holds a batch). Checking costs more than writing, so on two cores two workers fill the
 * time the writing thread waits (measured +10 %); more cores were not measured.
 */
const IMPORT_WORKERS = Math.max(1, Math.min(4, availableParallelism()));
/** The largest record taken (one service with everything in it). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** The report lists at most this many invalid records (it counts them all). */
const MAX_REPORTED_INVALID = 1000;

export interface ImportReport {
  /** records read */
  records: number;
  imported: number;
  /** found imported before, or earlier in the same import (the same content): not imported again */
  already_imported: number;
  /** services that could not keep the file's id: old → new */
  remapped: { from: string | null; to: string }[];
  invalid_count: number;
  /** the first invalid records: their position in the file (1 = the first record) and why */
  invalid: { position: number; service_id?: string; reason: string }[];
}

/**
 * The records of an import stream: the elements of a top-level JSON array, or the non-empty lines of
 * NDJSON (whichever the first character says). Only the record being read is held; a record larger
 * than MAX_RECORD_BYTES stops the import (400).
 */
export async function* recordsOf(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<RecordText> {
  let format: 'array' | 'lines' | undefined;
  let position = 0;
  // the text not yet taken; inside an array element it starts at the element's first character
  let buffer = '';
  // an array element being read: how far it was scanned, its nesting depth, inside a string, after a backslash
  let scanned = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let closed = false;
  const tooLarge = () => invalid(`record ${position + 1} is larger than ${MAX_RECORD_BYTES} bytes`);
  // a character cut between two chunks is joined, not garbled
  const decoder = new StringDecoder('utf8');
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (format === undefined) {
      buffer = buffer.replace(/^\uFEFF/, '');
      const first = /\S/.exec(buffer);
      if (!first) continue;
      format = first[0] === '[' ? 'array' : 'lines';
      if (format === 'array') buffer = buffer.slice(first.index + 1);
    }
    if (format === 'lines') {
      let start = 0;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n', start)) {
        const line = buffer.slice(start, nl).trim();
        start = nl + 1;
        if (line) yield { position: ++position, text: line };
      }
      buffer = buffer.slice(start);
      if (buffer.length > MAX_RECORD_BYTES) throw tooLarge();
      continue;
    }
    if (closed) {
      if (/\S/.test(buffer)) throw invalid('the import holds more after its JSON array');
      buffer = '';
      continue;
    }
    // a JSON array: its top-level elements are cut out as text, each parsed on its own
    let i = scanned;
    while (i < buffer.length) {
      if (depth === 0) {
        while (i < buffer.length && /[\s,]/.test(buffer[i])) i++;
        if (i === buffer.length) {
          buffer = '';
          i = 0;
          break;
        }
        if (buffer[i] === ']') {
          closed = true;
          if (/\S/.test(buffer.slice(i + 1))) throw invalid('the import holds more after its JSON array');
          buffer = '';
          i = 0;
          break;
        }
        buffer = buffer.slice(i);
        i = 0;
        if (buffer[0] === '{' || buffer[0] === '[') {
          depth = 1;
          i = 1;
          continue;
        }
        // a scalar element (an ids-only export is refused record by record): a string, or up to a comma
        const end = buffer[0] === '"' ? closingQuote(buffer) : buffer.search(/[\s,\]]/);
        if (end < 0) break;
        yield { position: ++position, text: buffer.slice(0, end) };
        buffer = buffer.slice(end);
        continue;
      }
      const ch = buffer.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === 92 /* \ */) escaped = true;
        else if (ch === 34 /* " */) inString = false;
      } else if (ch === 34) inString = true;
      else if (ch === 123 /* { */ || ch === 91 /* [ */) depth++;
      else if ((ch === 125 /* } */ || ch === 93) /* ] */ && --depth === 0) {
        yield { position: ++position, text: buffer.slice(0, i + 1) };
        buffer = buffer.slice(i + 1);
        i = 0;
        continue;
      }
      i++;
    }
    scanned = depth > 0 ? i : 0;
    if (buffer.length > MAX_RECORD_BYTES) throw tooLarge();
  }
  if (format === 'array' && !closed) throw invalid('the import ends inside its JSON array (no closing ])');
  if (format === 'lines' && buffer.trim()) yield { position: ++position, text: buffer.trim() };
}

/** The end (exclusive) of the JSON string at the start of `text`, or -1 when it is not complete yet. */
function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return -1;
}

/** Running from the sources (tests, through tsx), not the bundle. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/**
 * An import's worker: dist/import-worker.js from the bundle; from the sources, a bootstrap that
 * registers tsx in the worker first (a worker does not inherit its parent's loader hooks, and a
 * `--import tsx` in its execArgv comes too late for its entry module: tsx issue #354).
 */
function startWorker(setup: CheckerSetup): Worker {
  if (!FROM_SOURCES) return new Worker(pathToFileURL(packagePath('dist/import-worker.js')), { workerData: setup });
  const entry = new URL('./import-worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`, { eval: true, workerData: setup });
}

/** An import's worker thread: one batch checked at a time. */
class RecordChecker {
  private readonly worker: Worker;
  private pending?: { resolve: (checked: CheckedBatch) => void; reject: (error: Error) => void };
  private failure?: Error;

  constructor(setup: CheckerSetup) {
    this.worker = startWorker(setup);
    this.worker.on('message', (answer: CheckedBatch | { error: string }) => {
      const pending = this.pending;
      this.pending = undefined;
      if ('error' in answer) pending?.reject(new Error(`import check failed: ${answer.error}`));
      else pending?.resolve(answer);
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      this.pending?.reject(this.failure);
      this.pending = undefined;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the import's worker exited (${code})`)));
  }

  /** The batch checked (one at a time); the promise is marked handled, since the caller awaits it only after writing the batch before. */
  check(request: CheckRequest): Promise<CheckedBatch> {
    if (this.pending) throw new Error('the import checks one batch at a time');
    const checked = this.failure
      ? Promise.reject(this.failure)
      : new Promise<CheckedBatch>((resolve, reject) => {
          this.pending = { resolve, reject };
          this.worker.postMessage(request);
        });
    checked.catch(() => undefined);
    return checked;
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** Imports a stream of records into the scope's store; `onProgress` after each batch with the records read so far. */
export async function importServices(
  scope: JourneyScope,
  chunks: AsyncIterable<Buffer | string>,
  actor: Actor,
  now: () => number,
  onProgress?: (report: ImportReport) => void,
): Promise<ImportReport> {
  const report: ImportReport = { records: 0, imported: 0, already_imported: 0, remapped: [], invalid_count: 0, invalid: [] };
  const owns = serviceIdsOf(scope.partition);
  const write = async ({ checked, deltas }: CheckedBatch) => {
    const records: ImportRows[] = [];
    for (const item of checked) {
      if ('rows' in item) {
        item.rows.expiry = { lifetimeMs: scope.lifetimeFor(item.rows.serviceType), ...item.rows.expiry };
        records.push(item.rows);
      } else {
        report.invalid_count++;
        if (report.invalid.length < MAX_REPORTED_INVALID) report.invalid.push({ position: item.position, ...(item.serviceId === undefined ? {} : { service_id: item.serviceId }), reason: item.reason });
      }
    }
    if (records.length > 0) {
      const outcomes = await scope.store.importServices({ services: records, deltas }, owns);
      outcomes.forEach((outcome: ImportOutcome) => {
        if (outcome.status === 'imported') {
          report.imported++;
          if (outcome.remapped) report.remapped.push({ from: outcome.sourceId ?? null, to: outcome.serviceId.toString() });
        } else report.already_imported++; // imported before, or the same record earlier in this import
      });
    }
    onProgress?.(report);
  };
  const setup: CheckerSetup = { catalog: scope.catalog.config, maxExtensions: scope.schemas.maxExtensions };
  // started as batches come (a small import starts one)
  const checkers: RecordChecker[] = [];
  try {
    let texts: RecordText[] = [];
    let textLength = 0;
    // the batches being checked, in the file's order; batch k goes to worker k % IMPORT_WORKERS, which
    // is free again once batch k - IMPORT_WORKERS is checked
    const checking: Promise<CheckedBatch>[] = [];
    let sent = 0;
    const send = async () => {
      const oldest = checking.length === IMPORT_WORKERS ? await checking.shift()! : undefined;
      // the schemas as they are for this batch (a schema changed during the import applies from the next)
      const entries = async (entity: 'services' | 'states' | 'tasks') => [...(await scope.schemas.get(entity))];
      const request: CheckRequest = { records: texts, now: now(), schemas: { services: await entries('services'), states: await entries('states'), tasks: await entries('tasks') } };
      checking.push((checkers[sent++ % IMPORT_WORKERS] ??= new RecordChecker(setup)).check(request));
      texts = [];
      textLength = 0;
      // the workers check the batches after it while this one is written
      if (oldest) await write(oldest);
    };
    for await (const record of recordsOf(chunks)) {
      report.records++;
      texts.push(record);
      textLength += record.text.length;
      if (texts.length >= IMPORT_BATCH || textLength >= IMPORT_BATCH_TEXT) await send();
    }
    if (texts.length > 0) await send();
    while (checking.length > 0) await write(await checking.shift()!);
  } finally {
    await Promise.all(checkers.map((checker) => checker.close()));
  }
  await scope.store.appendAudit({ at: now(), actor, action: 'services.import', subject: `${report.records} records`, counts: { services: report.imported } });
  return report;
}
