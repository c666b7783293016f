// Customer profiles: core attributes (from the config; names case-insensitive; a value or an array
// whose element 0 is primary), profile extensions (each needs a schema), identification keys and
// the index entries they produce.
import { randomBytes } from 'node:crypto';
import { invalid, notFound } from './errors.js';
import { formatTimestamp, readTimestamp, showValue } from './fields.js';
import { checkSchemaName, convertAttribute, uniqueKeyOf, validateExtensionValue, type AttributeSchema, type ExtensionSchema } from './schemas.js';
import type { ExtensionValue } from './records.js';

export interface CoreAttribute {
  name: string;
  type: 'string' | 'date' | 'datetime';
}

export const DEFAULT_CORE_ATTRIBUTES: CoreAttribute[] = [
  { name: 'FirstName', type: 'string' },
  { name: 'LastName', type: 'string' },
  { name: 'Title', type: 'string' },
  { name: 'PhoneNumber', type: 'string' },
  { name: 'EmailAddress', type: 'string' },
];

export interface ProfileData {
  customerId: string;
  /** core attributes by their configured name */
  attributes: Record<string, unknown>;
  /** profile extensions by lower-cased name */
  extensions: Map<string, ExtensionValue>;
}

export interface IdentificationKey {
  id: number;
  name: string;
  /** the profile extension the attributes come from; absent: the core profile */
  source?: string;
  attributes: string[];
  unique: boolean;
}

export type NewIdentificationKey = Omit<IdentificationKey, 'id'>;

/** One index entry: the key's attribute values of one profile, encoded so that a prefix of the key matches a prefix of the text. */
export interface IdentityEntry {
  keyId: number;
  value: string;
  unique: boolean;
}

export const MAX_CUSTOMER_ID_LENGTH = 16;
const CUSTOMER_ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function newCustomerId(): string {
  const bytes = randomBytes(16);
  let id = '';
  for (const b of bytes) id += CUSTOMER_ID_ALPHABET[b % CUSTOMER_ID_ALPHABET.length];
  return id;
}

/** Profile-level settings the domain needs: the core attributes and the profile extension schemas. */
export interface ProfileModel {
  core: CoreAttribute[];
  schemas: ExtensionSchema[];
}

function coreByKey(model: ProfileModel): Map<string, CoreAttribute> {
  return new Map(model.core.map((a) => [a.name.toLowerCase(), a]));
}

function schemaByKey(model: ProfileModel): Map<string, ExtensionSchema> {
  return new Map(model.schemas.map((s) => [s.name.toLowerCase(), s]));
}

function convertCore(attribute: CoreAttribute, value: unknown): unknown {
  const one = (v: unknown, label: string) => {
    if (attribute.type === 'string') {
      if (typeof v !== 'string') throw invalid(`${label} must be a string, got ${showValue(v)}`);
      return v;
    }
    if (attribute.type === 'datetime') return formatTimestamp(readTimestamp(label, v));
    return convertAttribute({ name: attribute.name, type: 'date', mandatory: false }, v, label);
  };
  if (Array.isArray(value)) {
    if (value.length === 0) throw invalid(`${attribute.name} must not be an empty array`);
    return value.map((v, i) => one(v, `${attribute.name}[${i}]`));
  }
  return one(value, attribute.name);
}

const PROFILE_RESERVED = new Set(['customer_id']);

/**
 * Reads a profile body: core attributes (converted) and extensions (validated against their schema).
 * Any other key is an error: profile extensions need a schema.
 */
export function parseProfileBody(raw: unknown, model: ProfileModel): { customerId?: string; attributes: Record<string, unknown>; extensions: Map<string, ExtensionValue> } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('the request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const core = coreByKey(model);
  const schemas = schemaByKey(model);
  const attributes: Record<string, unknown> = {};
  const extensions = new Map<string, ExtensionValue>();
  let customerId: string | undefined;
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (PROFILE_RESERVED.has(key)) {
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CUSTOMER_ID_LENGTH) {
        throw invalid(`customer_id must be a string of 1 to ${MAX_CUSTOMER_ID_LENGTH} characters`);
      }
      customerId = value;
      continue;
    }
    if (value === null || value === undefined) continue;
    const attribute = core.get(key.toLowerCase());
    if (attribute) {
      attributes[attribute.name] = convertCore(attribute, value);
      continue;
    }
    const schema = schemas.get(key.toLowerCase());
    if (!schema) throw invalid(`${key} is neither a profile attribute nor a profile extension with a schema`);
    extensions.set(schema.name.toLowerCase(), { name: schema.name, value: validateExtensionValue(schema, value) });
  }
  return { customerId, attributes, extensions };
}

/**
 * POST /profiles/{id}/extensions: a single-valued extension is replaced; a multi-valued one gets each
 * record upserted by its unique attributes (appended when the schema has none).
 */
export function insertExtensionRecords(current: ProfileData, raw: unknown, model: ProfileModel): ProfileData {
  const { extensions } = parseProfileBody(stripOwner(raw), { core: [], schemas: model.schemas });
  const next = new Map(current.extensions);
  const schemas = schemaByKey(model);
  for (const [key, incoming] of extensions) {
    const schema = schemas.get(key)!;
    if (schema.type === 'single-valued') {
      next.set(key, incoming);
      continue;
    }
    const records = [...((next.get(key)?.value as Record<string, unknown>[] | undefined) ?? [])];
    for (const record of incoming.value as Record<string, unknown>[]) {
      const at = schema.unique.length > 0 ? records.findIndex((r) => uniqueKeyOf(schema, r) === uniqueKeyOf(schema, record)) : -1;
      if (at >= 0) records[at] = record;
      else records.push(record);
    }
    next.set(key, { name: schema.name, value: records });
  }
  return { ...current, extensions: next };
}

function stripOwner(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const { customer_id: _ignored, ...rest } = raw as Record<string, unknown>;
  return rest;
}

function multiValuedSchema(model: ProfileModel, name: string): ExtensionSchema {
  const schema = schemaByKey(model).get(name.toLowerCase());
  if (!schema) throw notFound('extension', name);
  if (schema.type !== 'multi-valued' || schema.unique.length === 0) {
    throw invalid(`extension ${schema.name} has no unique attributes: records cannot be selected by unique`);
  }
  return schema;
}

/** Finds the record whose unique attributes equal the body's (converted to their types). */
function selectRecord(schema: ExtensionSchema, records: Record<string, unknown>[], raw: unknown): { index: number; body: Record<string, unknown> } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('the request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const byKey = new Map(Object.keys(body).map((k) => [k.toLowerCase(), body[k]]));
  const wanted: Record<string, unknown> = {};
  for (const u of schema.unique) {
    const value = byKey.get(u.toLowerCase());
    if (value === undefined) throw invalid(`${u} is mandatory: it selects the record`);
    wanted[u] = convertAttribute(schema.attributes.find((a) => a.name === u) as AttributeSchema, value, u);
  }
  const index = records.findIndex((r) => uniqueKeyOf(schema, r) === uniqueKeyOf(schema, wanted));
  if (index < 0) throw notFound('record', uniqueKeyOf(schema, wanted));
  return { index, body };
}

/** PUT …/extensions/{name}/by/unique: updates the other attributes of the selected record. */
export function updateRecordByUnique(current: ProfileData, name: string, raw: unknown, model: ProfileModel): ProfileData {
  const schema = multiValuedSchema(model, name);
  const key = schema.name.toLowerCase();
  const records = [...((current.extensions.get(key)?.value as Record<string, unknown>[] | undefined) ?? [])];
  const { index, body } = selectRecord(schema, records, raw);
  const merged: Record<string, unknown> = { ...records[index] };
  for (const k of Object.keys(body)) {
    const attribute = schema.attributes.find((a) => a.name.toLowerCase() === k.toLowerCase());
    if (k === 'customer_id') continue;
    if (!attribute) throw invalid(`${schema.name}.${k} is not an attribute of extension ${schema.name}`);
    if (schema.unique.includes(attribute.name)) continue; // identity: never changed in place
    merged[attribute.name] = body[k];
  }
  records[index] = (validateExtensionValue(schema, [merged]) as Record<string, unknown>[])[0];
  const extensions = new Map(current.extensions);
  extensions.set(key, { name: schema.name, value: records });
  return { ...current, extensions };
}

/** PUT …/extensions/{name}/delete/by/unique. */
export function deleteRecordByUnique(current: ProfileData, name: string, raw: unknown, model: ProfileModel): ProfileData {
  const schema = multiValuedSchema(model, name);
  const key = schema.name.toLowerCase();
  const records = [...((current.extensions.get(key)?.value as Record<string, unknown>[] | undefined) ?? [])];
  const { index } = selectRecord(schema, records, raw);
  records.splice(index, 1);
  const extensions = new Map(current.extensions);
  if (records.length === 0) extensions.delete(key);
  else extensions.set(key, { name: schema.name, value: records });
  return { ...current, extensions };
}

// ---- identification keys ----

export function parseIdentificationKey(raw: unknown, model: ProfileModel): NewIdentificationKey {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('the request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const name = checkSchemaName('name', body.name);
  if (!Array.isArray(body.attributes) || body.attributes.length === 0) throw invalid('attributes must be a non-empty array of attribute names');
  const unique = body.unique === undefined ? false : body.unique === true || body.unique === 'true' ? true : body.unique === false || body.unique === 'false' ? false : null;
  if (unique === null) throw invalid('unique must be true or false');
  const source = body.source === undefined || body.source === null || String(body.source).toLowerCase() === 'profile' ? undefined : body.source;
  let available: string[];
  let sourceName: string | undefined;
  if (source === undefined) {
    available = model.core.map((a) => a.name);
  } else {
    const schema = typeof source === 'string' ? schemaByKey(model).get(source.toLowerCase()) : undefined;
    if (!schema) throw invalid(`source ${showValue(source)} is neither "profile" nor a profile extension with a schema`);
    available = schema.attributes.map((a) => a.name);
    sourceName = schema.name;
  }
  const attributes = body.attributes.map((a: unknown) => {
    let text = typeof a === 'string' ? a : '';
    // accept the qualified form the listing shows ("Ext.attr") for extension keys
    if (sourceName && text.toLowerCase().startsWith(`${sourceName.toLowerCase()}.`)) text = text.slice(sourceName.length + 1);
    const match = available.find((n) => n.toLowerCase() === text.toLowerCase());
    if (!match) throw invalid(`attribute ${showValue(a)} is not an attribute of ${sourceName ?? 'the profile'}: one key takes its attributes from one source`);
    return match;
  });
  if (new Set(attributes).size !== attributes.length) throw invalid('an attribute appears twice in the key');
  const key: NewIdentificationKey = { name, attributes, unique };
  if (sourceName) key.source = sourceName;
  return key;
}

export function presentIdentificationKey(key: IdentificationKey): Record<string, unknown> {
  const view: Record<string, unknown> = {
    name: key.name,
    attributes: key.source ? key.attributes.map((a) => `${key.source}.${a}`) : key.attributes,
  };
  if (key.source) view.source = key.source;
  if (key.unique) view.unique = true;
  return view;
}

const encodePart = (value: unknown) => `${encodeURIComponent(typeof value === 'bigint' ? value.toString() : String(value))}|`;

/** Index texts of one profile for one key: one per record (extension keys) or per value combination (array core attributes). */
export function identityValues(data: ProfileData, key: IdentificationKey): string[] {
  const tuples: Record<string, unknown>[] = [];
  if (key.source) {
    const value = data.extensions.get(key.source.toLowerCase())?.value;
    const records = Array.isArray(value) ? value : value ? [value] : [];
    tuples.push(...(records as Record<string, unknown>[]));
  } else {
    tuples.push(data.attributes);
  }
  const texts = new Set<string>();
  for (const tuple of tuples) {
    let combos: string[] = [''];
    for (const attribute of key.attributes) {
      const value = tuple[attribute];
      if (value === undefined || value === null) {
        combos = [];
        break;
      }
      const values = Array.isArray(value) ? value : [value];
      combos = combos.flatMap((prefix) => values.map((v) => prefix + encodePart(v))).slice(0, 64);
    }
    for (const combo of combos) texts.add(combo);
  }
  return [...texts];
}

export function identitiesOf(data: ProfileData, keys: IdentificationKey[]): IdentityEntry[] {
  return keys.flatMap((key) => identityValues(data, key).map((value) => ({ keyId: key.id, value, unique: key.unique })));
}

// ---- identify ----

export const IDENTIFY_OPTIONS = new Set(['id_key', 'include_profile', 'extensions', 'include_extensions']);

export interface IdentifyQuery {
  key: IdentificationKey;
  /** the encoded prefix of the key's values that the query supplies */
  text: string;
  /** all of the key's attributes are supplied: an exact match, not a prefix */
  exact: boolean;
}

/**
 * Chooses the key (the given `id_key`, or the documented inference: the first key in creation order
 * whose attributes are all supplied, else the longest supplied prefix, ties to the oldest key) and
 * encodes the supplied values the way the index stores them.
 */
export function planIdentify(query: Record<string, string>, keys: IdentificationKey[], model: ProfileModel, idKey?: string): IdentifyQuery {
  const supplied = new Map<string, string>();
  for (const [name, value] of Object.entries(query)) supplied.set(name.toLowerCase(), value);
  if (supplied.size === 0) throw invalid('give at least one attribute to identify by, e.g. ?PhoneNumber=5551234');
  const qualified = (key: IdentificationKey, attribute: string) => (key.source ? `${key.source}.${attribute}` : attribute).toLowerCase();
  const covered = (key: IdentificationKey) => {
    let n = 0;
    while (n < key.attributes.length && supplied.has(qualified(key, key.attributes[n]))) n++;
    return n;
  };
  let chosen: IdentificationKey | undefined;
  if (idKey !== undefined) {
    chosen = keys.find((k) => k.name.toLowerCase() === idKey.toLowerCase());
    if (!chosen) throw invalid(`id_key ${showValue(idKey)} is not an identification key`);
  } else {
    const ordered = [...keys].sort((a, b) => a.id - b.id);
    chosen = ordered.find((k) => covered(k) === k.attributes.length);
    if (!chosen) {
      let best = 0;
      for (const k of ordered) {
        const score = covered(k);
        if (score > best) {
          best = score;
          chosen = k;
        }
      }
    }
  }
  const n = chosen ? covered(chosen) : 0;
  if (!chosen || n === 0) throw invalid(`no identification key covers the attributes given (${[...supplied.keys()].join(', ')})`);
  const schema = chosen.source ? schemaByKey(model).get(chosen.source.toLowerCase()) : undefined;
  const core = coreByKey(model);
  let text = '';
  for (const attribute of chosen.attributes.slice(0, n)) {
    const raw = supplied.get(qualified(chosen, attribute))!;
    const definition = schema?.attributes.find((a) => a.name === attribute);
    let value: unknown = raw;
    try {
      if (definition) value = convertAttribute(definition, raw, attribute);
      else if (core.get(attribute.toLowerCase())) value = convertCore(core.get(attribute.toLowerCase())!, raw);
    } catch {
      // a value that cannot be of the attribute's type matches nothing
      value = `\u0000${raw}`;
    }
    text += encodePart(value);
  }
  return { key: chosen, text, exact: n === chosen.attributes.length };
}

/** A profile as GET shows it: customer_id, every core attribute it has, the requested extensions. */
export function presentProfile(data: ProfileData, options: { core: boolean; extensions: 'all' | ReadonlySet<string> }): Record<string, unknown> {
  const view: Record<string, unknown> = { customer_id: data.customerId };
  if (options.core) Object.assign(view, data.attributes);
  for (const [key, ext] of data.extensions) {
    if (options.extensions === 'all' || options.extensions.has(key)) {
      Object.defineProperty(view, ext.name, { value: ext.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return view;
}
