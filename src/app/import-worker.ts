// An import's worker thread (#19): checks batches of record texts and builds their rows
// (import-check.ts) while the main thread writes the batches before. It gets the partition's
// business-attribute configuration once, and with each batch the extension schemas of that moment; it
// answers each batch with its checked records, or with the error that stopped it (a bug, not a
// refused record).
import { parentPort, workerData } from 'node:worker_threads';
import { BusinessAttributeCatalog, type CatalogConfig } from '../domain/business-attributes.js';
import type { ExtensionSchema } from '../domain/schemas.js';
import { extensionValidator } from './extension-schemas.js';
import { checkBatch, type RecordText } from './import-check.js';

export interface CheckerSetup {
  catalog: CatalogConfig;
  maxExtensions: number;
}

export interface CheckRequest {
  records: RecordText[];
  now: number;
  /** each entity's schemas, by lower-cased name */
  schemas: Record<'services' | 'states' | 'tasks', [string, ExtensionSchema][]>;
}

const setup = workerData as CheckerSetup;
const catalog = new BusinessAttributeCatalog(setup.catalog);

parentPort!.on('message', ({ records, now, schemas }: CheckRequest) => {
  try {
    const validate = {
      services: extensionValidator(new Map(schemas.services), setup.maxExtensions),
      states: extensionValidator(new Map(schemas.states), setup.maxExtensions),
      tasks: extensionValidator(new Map(schemas.tasks), setup.maxExtensions),
    };
    parentPort!.postMessage(checkBatch(catalog, validate, records, now));
  } catch (error) {
    parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
