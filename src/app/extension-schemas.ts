// Applies extension schemas to service / state / task writes: an extension whose name has a schema
// is validated and normalized; others stay free JSON. Schemas are read through a short cache: a
// schema created or deleted on this node applies at once, one created on another node (PostgreSQL)
// within SCHEMA_CACHE_MS.
import type { Extensions } from '../domain/records.js';
import { indexedValues, validateExtensionValue, type ExtensionSchema, type SchemaEntity } from '../domain/schemas.js';
import type { Store } from '../store/store.js';
import { invalid } from '../domain/errors.js';

export const SCHEMA_CACHE_MS = 1000;

export class ExtensionSchemaCache {
  private readonly cache = new Map<SchemaEntity, { at: number; schemas: Promise<Map<string, ExtensionSchema>> }>();

  constructor(
    private readonly store: Store,
    /** most extensions one write may carry */
    readonly maxExtensions = Infinity,
  ) {}

  get(entity: SchemaEntity): Promise<Map<string, ExtensionSchema>> {
    const hit = this.cache.get(entity);
    if (hit && Date.now() - hit.at < SCHEMA_CACHE_MS) return hit.schemas;
    const schemas = this.store.listExtensionSchemas(entity).then((list) => new Map(list.map((s) => [s.name.toLowerCase(), s])));
    schemas.catch(() => this.cache.delete(entity));
    this.cache.set(entity, { at: Date.now(), schemas });
    return schemas;
  }

  invalidate(entity: SchemaEntity): void {
    this.cache.delete(entity);
  }

  /** Validates the extensions that have a schema; returns them normalized (defaults applied, names as in the schema). */
  async apply(entity: Exclude<SchemaEntity, 'profiles'>, extensions: Extensions): Promise<Extensions> {
    if (extensions.size === 0) return extensions;
    return (await this.validator(entity))(extensions);
  }

  /** `apply` as a synchronous function over the schemas of this moment (for a check inside a store transaction). */
  async validator(entity: Exclude<SchemaEntity, 'profiles'>): Promise<(extensions: Extensions) => Extensions> {
    return extensionValidator(await this.get(entity), this.maxExtensions);
  }
}

/** Validates an element's extensions against `schemas` (by lower-cased name): the cache's check, and an import worker's. */
export function extensionValidator(schemas: ReadonlyMap<string, ExtensionSchema>, maxExtensions: number): (extensions: Extensions) => Extensions {
  return (extensions) => {
    if (extensions.size > maxExtensions) throw invalid(`too many extensions: ${extensions.size}; at most ${maxExtensions} on one element (limits.extensions_per_element)`);
    if (schemas.size === 0) return extensions;
    const checked: Extensions = new Map();
    for (const [key, extension] of extensions) {
      const schema = schemas.get(key);
      if (!schema) {
        checked.set(key, extension);
        continue;
      }
      const value = validateExtensionValue(schema, extension.value, extension.name);
      const indexed = indexedValues(schema, value);
      checked.set(key, indexed === undefined ? { name: schema.name, value } : { name: schema.name, value, indexed });
    }
    return checked;
  };
}
