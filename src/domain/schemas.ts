// Extension schemas (profiles, services, states, tasks) and the records they validate.
// A schema is `{name, type, attributes, unique}`; every write of an extension that has a schema is
// checked against it and normalized (types converted, defaults applied). Names compare
// case-insensitively and keep the spelling they were created with.
import { invalid } from './errors.js';
import type { IndexedValue } from './records.js';
import { INT32_MAX, INT32_MIN, readLongOrString, readTimestamp, formatTimestamp, showValue } from './fields.js';

export const SCHEMA_ENTITIES = ['profiles', 'services', 'states', 'tasks'] as const;
export type SchemaEntity = (typeof SCHEMA_ENTITIES)[number];

export const ATTRIBUTE_TYPES = ['boolean', 'string', 'integer', 'long', 'double', 'date', 'datetime', 'currency'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export interface AttributeSchema {
  name: string;
  type: AttributeType;
  default?: unknown;
  length?: number;
  mandatory: boolean;
  encrypt?: boolean;
  /** its values are indexed: GET /services/search filters on them (service, state and task extensions) */
  searchable?: boolean;
}

export interface ExtensionSchema {
  name: string;
  type: 'single-valued' | 'multi-valued';
  attributes: AttributeSchema[];
  /** attribute names whose value combination identifies a record within its owner */
  unique: string[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
export const MAX_SCHEMA_NAME_LENGTH = 26;

/** Extension and identification-key names: a letter, then letters, digits or `_`, at most 26. */
export function checkSchemaName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.length > MAX_SCHEMA_NAME_LENGTH) {
    throw invalid(`${what} must start with a letter, then letters, digits or _, at most ${MAX_SCHEMA_NAME_LENGTH} characters; got ${showValue(name)}`);
  }
  return name;
}

function readFlag(field: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw invalid(`${field} must be true or false, got ${showValue(value)}`);
}

function readLength(field: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1_000_000) throw invalid(`${field} must be a non-negative integer, got ${showValue(value)}`);
  return n === 0 ? undefined : n;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

/** Converts one attribute value to its type, or throws naming the attribute. */
export function convertAttribute(attribute: AttributeSchema, value: unknown, label: string): unknown {
  const fail = (expected: string): never => {
    throw invalid(`${label} must be ${expected}, got ${showValue(value)}`);
  };
  switch (attribute.type) {
    case 'boolean':
      return typeof value === 'boolean' ? value : fail('a boolean');
    case 'string':
      if (typeof value !== 'string') fail('a string');
      if (attribute.length !== undefined && (value as string).length > attribute.length) fail(`a string of at most ${attribute.length} characters`);
      return value;
    case 'integer': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      return typeof n === 'number' && Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX ? n : fail('a 32-bit integer');
    }
    case 'long':
      if (typeof value === 'string' && /^-?\d+$/.test(value)) {
        const big = BigInt(value);
        return readLongOrString(label, Number.isSafeInteger(Number(value)) ? Number(value) : big);
      }
      return typeof value === 'number' || typeof value === 'bigint' ? readLongOrString(label, value) : fail('a 64-bit integer');
    case 'double':
    case 'currency': {
      const n = typeof value === 'string' && NUMERIC.test(value) ? Number(value) : value;
      return typeof n === 'number' && Number.isFinite(n) ? n : fail('a number');
    }
    case 'date': {
      const m = typeof value === 'string' ? DATE.exec(value) : null;
      if (m) {
        const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
        if (d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])) return value;
      }
      return fail('a date YYYY-MM-DD');
    }
    case 'datetime':
      try {
        return formatTimestamp(readTimestamp(label, value));
      } catch {
        return fail('an ISO 8601 date-time with a time zone');
      }
  }
}

/** Validates a schema definition from a request body. */
export function parseExtensionSchema(raw: unknown, entity: SchemaEntity): ExtensionSchema {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('the request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const name = checkSchemaName('name', body.name);
  let type: ExtensionSchema['type'];
  if (body.type === 'single-valued' || body.type === 'classifier') type = 'single-valued';
  else if (body.type === 'multi-valued') type = 'multi-valued';
  else throw invalid(`type must be single-valued or multi-valued, got ${showValue(body.type)}`);
  const rawAttributes = body.attributes ?? [];
  if (!Array.isArray(rawAttributes)) throw invalid('attributes must be an array');
  if (entity !== 'profiles' && body.type !== 'classifier' && rawAttributes.length === 0) throw invalid('attributes is mandatory for service, state and task extensions');
  const seen = new Set<string>();
  const uniqueFromAttributes: string[] = [];
  const attributes = rawAttributes.map((raw, i): AttributeSchema => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`attributes[${i}] must be an object`);
    const a = raw as Record<string, unknown>;
    const attrName = a.name;
    if (typeof attrName !== 'string' || !NAME.test(attrName) || attrName.length > 64) {
      throw invalid(`attributes[${i}].name must start with a letter, then letters, digits or _, at most 64 characters`);
    }
    if (seen.has(attrName.toLowerCase())) throw invalid(`attribute ${attrName} is defined twice`);
    seen.add(attrName.toLowerCase());
    const attrType = typeof a.type === 'string' ? a.type.toLowerCase() : a.type;
    if (!ATTRIBUTE_TYPES.includes(attrType as AttributeType)) throw invalid(`attributes[${i}].type must be one of ${ATTRIBUTE_TYPES.join(', ')}, got ${showValue(a.type)}`);
    const attribute: AttributeSchema = {
      name: attrName,
      type: attrType as AttributeType,
      mandatory: readFlag(`attributes[${i}].mandatory`, a.mandatory),
    };
    const length = readLength(`attributes[${i}].length`, a.length);
    if (length !== undefined) attribute.length = length;
    if (a.default !== undefined && a.default !== null) attribute.default = convertAttribute(attribute, a.default, `attributes[${i}].default`);
    if (readFlag(`attributes[${i}].encrypt`, a.encrypt)) attribute.encrypt = true;
    if (readFlag(`attributes[${i}].searchable`, a.searchable)) {
      if (entity === 'profiles') throw invalid(`attributes[${i}].searchable: only service, state and task extensions are searchable (profiles are found by identification keys)`);
      attribute.searchable = true;
    }
    if (readFlag(`attributes[${i}].unique`, a.unique)) uniqueFromAttributes.push(attrName);
    return attribute;
  });
  const rawUnique = body.unique ?? [];
  if (!Array.isArray(rawUnique)) throw invalid('unique must be an array of attribute names');
  const unique = [...rawUnique, ...uniqueFromAttributes].map((u) => {
    const attribute = attributes.find((a) => typeof u === 'string' && a.name.toLowerCase() === u.toLowerCase());
    if (!attribute) throw invalid(`unique names ${showValue(u)}, which is not an attribute of ${name}`);
    return attribute.name;
  });
  return { name, type, attributes, unique: [...new Set(unique)] };
}

/** The schema as the metadata endpoints show it. */
export function presentExtensionSchema(schema: ExtensionSchema, entity: SchemaEntity): Record<string, unknown> {
  const view: Record<string, unknown> = { name: schema.name, type: schema.type };
  if (entity === 'profiles') view.required = false;
  view.attributes = schema.attributes.map((a) => {
    const attribute: Record<string, unknown> = { name: a.name, type: a.type, mandatory: a.mandatory, unique: schema.unique.includes(a.name) };
    if (a.length !== undefined) attribute.length = a.length;
    if (a.default !== undefined) attribute.default = a.default;
    if (a.encrypt) attribute.encrypt = true;
    if (a.searchable) attribute.searchable = true;
    return attribute;
  });
  view.unique = schema.unique;
  return view;
}

function recordOf(schema: ExtensionSchema, raw: unknown, label: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`${label} must be a JSON object`);
  const input = raw as Record<string, unknown>;
  const byKey = new Map(schema.attributes.map((a) => [a.name.toLowerCase(), a]));
  const record: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (key === 'customer_id' || key === 'name') continue; // the 8.1 record resource repeats its owner; tolerated
    const attribute = byKey.get(key.toLowerCase());
    if (!attribute) throw invalid(`${label}.${key} is not an attribute of extension ${schema.name}`);
    if (input[key] === null || input[key] === undefined) continue;
    record[attribute.name] = convertAttribute(attribute, input[key], `${label}.${attribute.name}`);
  }
  for (const attribute of schema.attributes) {
    if (record[attribute.name] !== undefined) continue;
    if (attribute.default !== undefined) record[attribute.name] = attribute.default;
    else if (attribute.mandatory) throw invalid(`${label}.${attribute.name} is mandatory`);
  }
  // records list attributes in schema order
  return Object.fromEntries(schema.attributes.filter((a) => record[a.name] !== undefined).map((a) => [a.name, record[a.name]]));
}

/** The values of a record's unique attributes, as one comparable text. */
export function uniqueKeyOf(schema: ExtensionSchema, record: Record<string, unknown>): string {
  return JSON.stringify(schema.unique.map((u) => (typeof record[u] === 'bigint' ? String(record[u]) : (record[u] ?? null))));
}

/**
 * Validates an extension value against its schema: an object for single-valued, an array of objects
 * for multi-valued; types, lengths, mandatory attributes and defaults per attribute; no two records
 * sharing their unique attributes.
 */
export function validateExtensionValue(schema: ExtensionSchema, value: unknown, label = schema.name): unknown {
  if (schema.type === 'single-valued') {
    if (Array.isArray(value)) throw invalid(`${label} is single-valued: send one JSON object, not an array`);
    return recordOf(schema, value, label);
  }
  if (!Array.isArray(value)) throw invalid(`${label} is multi-valued: send an array of JSON objects`);
  const records = value.map((r, i) => recordOf(schema, r, `${label}[${i}]`));
  if (schema.unique.length > 0) {
    const seen = new Set<string>();
    for (const record of records) {
      const key = uniqueKeyOf(schema, record);
      if (seen.has(key)) throw invalid(`${label}: two records share the unique attributes ${schema.unique.join(', ')} = ${key}`);
      seen.add(key);
    }
  }
  return records;
}

/** How an attribute's values are indexed and compared: as text (strings, booleans) or as numbers (the rest; dates and date-times in epoch ms). */
function indexedForm(attribute: AttributeSchema, value: unknown): Omit<IndexedValue, 'attribute'> {
  switch (attribute.type) {
    case 'string':
      return { text: value as string };
    case 'boolean':
      return { text: String(value) };
    case 'date': {
      const [y, m, d] = (value as string).split('-').map(Number);
      return { number: Date.UTC(y, m - 1, d) };
    }
    case 'datetime':
      return { number: readTimestamp('', value) };
    default:
      return { number: value as number | bigint };
  }
}

/** The values of a schema's searchable attributes in a normalized extension value (every record of a multi-valued one); undefined when the schema has none. */
export function indexedValues(schema: ExtensionSchema, value: unknown): IndexedValue[] | undefined {
  const searchable = schema.attributes.filter((a) => a.searchable);
  if (searchable.length === 0) return undefined;
  const records = (Array.isArray(value) ? value : [value]) as Record<string, unknown>[];
  return records.flatMap((record) =>
    searchable.flatMap((a) => (record[a.name] === undefined || record[a.name] === null ? [] : [{ attribute: a.name.toLowerCase(), ...indexedForm(a, record[a.name]) }])),
  );
}

/** A search filter on a searchable attribute: its value equal to one, or within an inclusive range (numbers, dates and date-times). */
export interface ExtensionValueFilter {
  /** lower-cased */
  extension: string;
  attribute: string;
  equals?: Omit<IndexedValue, 'attribute'>;
  min?: number | bigint;
  max?: number | bigint;
}

export const RANGE_OPERATORS = ['min', 'max'] as const;

/** One `ext.<Extension>.<attribute>[.min|.max]=value` parameter, read against the attribute's schema. */
export function readExtensionFilter(label: string, attribute: AttributeSchema, operator: 'equals' | (typeof RANGE_OPERATORS)[number], raw: string): Omit<IndexedValue, 'attribute'> {
  if (operator !== 'equals' && (attribute.type === 'string' || attribute.type === 'boolean')) {
    throw invalid(`${label}: ranges (.min, .max) apply to numbers, dates and date-times; ${attribute.name} is a ${attribute.type}`);
  }
  const typed = attribute.type === 'boolean' ? (raw === 'true' ? true : raw === 'false' ? false : raw) : raw;
  return indexedForm(attribute, convertAttribute({ ...attribute, length: undefined }, typed, label));
}
