// GET /services/search: services of any owner, newest first, a page at a time. Pages are walked with
// an opaque cursor: the position of the page's last service and a digest of the filter, signed with
// the store's cursor key (the settings table, made by migration 013), so a cursor cannot be forged or
// moved onto another filter, and every node sharing the store accepts it.
import { invalid } from '../domain/errors.js';
import type { ServiceRecord } from '../domain/records.js';
import { RANGE_OPERATORS, readExtensionFilter, type AttributeSchema, type ExtensionSchema, type ExtensionValueFilter } from '../domain/schemas.js';
import type { ServiceSearch, Store } from '../store/store.js';
import { cursorPage } from './cursor.js';
import type { ExtensionSchemaCache } from './extension-schemas.js';

type Filter = Omit<ServiceSearch, 'after' | 'limit'>;

const filterDigest = (filter: Filter) =>
  JSON.stringify(
    [
      filter.customerId ?? null,
      filter.contactKey ?? null,
      filter.status,
      [...filter.serviceTypes].sort(),
      filter.startedFrom ?? null,
      filter.startedTo ?? null,
      filter.completedFrom ?? null,
      filter.completedTo ?? null,
      [...filter.dispositions].sort(),
      [...filter.stateTypes].sort(),
      filter.extensions.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).sort(),
    ],
  );

const EXTENSION_PARAMETER = /^ext\.([^.]+)\.([^.]+)(?:\.([^.]+))?$/;
const OWNER_ENTITIES = ['services', 'states', 'tasks'] as const;

/**
 * The search's `ext.<Extension>.<attribute>=value` (exact) and `….min=` / `….max=` (inclusive range)
 * parameters, each read against the attribute's schema: the attribute must be marked searchable in the
 * service, state or task schema of that name (the first of those that has it), else a 400 says why.
 */
export async function readExtensionFilters(schemas: ExtensionSchemaCache, query: Record<string, unknown>): Promise<ExtensionValueFilter[]> {
  const filters = new Map<string, ExtensionValueFilter>();
  for (const [parameter, raw] of Object.entries(query)) {
    if (!parameter.startsWith('ext.')) continue;
    const match = EXTENSION_PARAMETER.exec(parameter);
    const operator = match?.[3] ?? 'equals';
    if (!match || (operator !== 'equals' && !(RANGE_OPERATORS as readonly string[]).includes(operator))) {
      throw invalid(`${parameter}: extension filters are ext.<Extension>.<attribute>=value, or ext.<Extension>.<attribute>.min= / .max= for a range`);
    }
    if (typeof raw !== 'string') throw invalid(`${parameter}: give it once`);
    const [, extension, attributeName] = match;
    let found: { schema: ExtensionSchema; attribute: AttributeSchema | undefined } | undefined;
    for (const entity of OWNER_ENTITIES) {
      const schema = (await schemas.get(entity)).get(extension.toLowerCase());
      if (!schema) continue;
      const attribute = schema.attributes.find((a) => a.name.toLowerCase() === attributeName.toLowerCase());
      if (attribute?.searchable) {
        found = { schema, attribute };
        break;
      }
      found ??= { schema, attribute };
    }
    if (!found) throw invalid(`${parameter}: no service, state or task extension schema is named ${extension}; only attributes a schema marks searchable can be searched`);
    if (!found.attribute) throw invalid(`${parameter}: ${attributeName} is not an attribute of extension ${found.schema.name}`);
    if (!found.attribute.searchable) throw invalid(`${parameter}: ${found.attribute.name} of extension ${found.schema.name} is not searchable (its schema does not mark it searchable: true)`);
    const key = `${found.schema.name.toLowerCase()}.${found.attribute.name.toLowerCase()}`;
    const filter = filters.get(key) ?? { extension: found.schema.name.toLowerCase(), attribute: found.attribute.name.toLowerCase() };
    const value = readExtensionFilter(parameter, found.attribute, operator as 'equals' | 'min' | 'max', raw);
    if (operator === 'equals') filter.equals = value;
    else filter[operator as 'min' | 'max'] = value.number;
    filters.set(key, filter);
  }
  return [...filters.values()];
}

/** One page of a search, and the cursor of the next page when there is one. */
export async function searchPage(store: Store, filter: Filter, limit: number, cursor: string | undefined): Promise<{ services: ServiceRecord[]; next?: string }> {
  const { rows, next } = await cursorPage(
    store,
    filterDigest(filter),
    { cursor, limit },
    (after, limit) => store.searchServices({ ...filter, after, limit: limit! }),
    (service) => ({ startedAt: service.startedAt, id: service.serviceId }),
  );
  return { services: rows, next };
}
