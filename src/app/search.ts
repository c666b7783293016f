// GET /services/search: services of any owner, newest first, a page at a time. Pages are walked with
// an opaque cursor: the position of the page's last service and a digest of the filter, signed with
// the store's cursor key (the settings table, made by migration 013), so a cursor cannot be forged or
// moved onto another filter, and every node sharing the store accepts it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalid } from '../domain/errors.js';
import type { ServiceRecord } from '../domain/records.js';
import { RANGE_OPERATORS, readExtensionFilter, type AttributeSchema, type ExtensionSchema, type ExtensionValueFilter } from '../domain/schemas.js';
import type { ServiceSearch, Store } from '../store/store.js';
import type { ExtensionSchemaCache } from './extension-schemas.js';

type Filter = Omit<ServiceSearch, 'after' | 'limit'>;

const keys = new WeakMap<Store, Promise<Buffer>>();

/** The store's cursor key, read once per store. */
function cursorKey(store: Store): Promise<Buffer> {
  let key = keys.get(store);
  if (!key) {
    key = store.readSetting('cursor_key').then((value) => {
      if (!value) throw new Error('the settings table has no cursor_key (migration 013)');
      return Buffer.from(value, 'utf8');
    });
    key.catch(() => keys.delete(store));
    keys.set(store, key);
  }
  return key;
}

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

const sign = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest().subarray(0, 16);

export function encodeCursor(key: Buffer, filter: Filter, last: ServiceRecord): string {
  const body = Buffer.from(JSON.stringify({ t: last.startedAt, i: last.serviceId.toString() }), 'utf8').toString('base64url');
  return `${body}.${sign(key, `${body}|${filterDigest(filter)}`).toString('base64url')}`;
}

export function decodeCursor(key: Buffer, filter: Filter, cursor: string): NonNullable<ServiceSearch['after']> {
  const [body, mac, extra] = cursor.split('.');
  const given = Buffer.from(mac ?? '', 'base64url');
  const expected = sign(key, `${body}|${filterDigest(filter)}`);
  if (extra !== undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalid('cursor: not a cursor this search gave (cursors are signed and belong to the filter they were made with)');
  }
  const position = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { t: number; i: string };
  return { startedAt: position.t, serviceId: BigInt(position.i) };
}

/** One page of a search, and the cursor of the next page when there may be one. */
export async function searchPage(store: Store, filter: Filter, limit: number, cursor: string | undefined): Promise<{ services: ServiceRecord[]; next?: string }> {
  const key = await cursorKey(store);
  const after = cursor === undefined ? undefined : decodeCursor(key, filter, cursor);
  // one more than the page: a next cursor only when there is a next page
  const found = await store.searchServices({ ...filter, after, limit: limit + 1 });
  const services = found.slice(0, limit);
  const next = found.length > limit ? encodeCursor(key, filter, services[services.length - 1]) : undefined;
  return { services, next };
}
