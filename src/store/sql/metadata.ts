// Extension schemas and identification keys, written once for both stores.
import { invalid, notFound, type DomainError } from '../../domain/errors.js';
import { parseStoredJson, stringifyJson } from '../../domain/json.js';
import { identityValues, type IdentificationKey, type NewIdentificationKey } from '../../domain/profiles.js';
import { indexedValues, validateExtensionValue, type ExtensionSchema, type SchemaEntity } from '../../domain/schemas.js';
import type { ExtensionOwner } from '../store.js';
import type { Dialect, SqlReader, SqlWriter } from './dialect.js';
import { replaceIndexedValues, type ExtensionWrite } from './extensions.js';
import { duplicateIdentity, insertIdentities, readProfiles } from './profiles.js';
import type { Write } from './write.js';

function keyInUse(schema: string, key: IdentificationKey): DomainError {
  return invalid(`extension ${schema} cannot be deleted: identification key ${key.name} is built on it`);
}

export function createExtensionSchema(d: Dialect, entity: SchemaEntity, schema: ExtensionSchema): Write<void, undefined> {
  const key = schema.name.toLowerCase();
  return {
    plan: async (read) => {
      if (await read.one('SELECT 1 AS found FROM extension_schemas WHERE entity = ? AND name_key = ?', [entity, key])) {
        throw invalid(`a ${entity} extension schema named ${schema.name} exists already`);
      }
    },
    apply: async (tx) => {
      await tx.run('INSERT INTO extension_schemas (entity, name_key, definition) VALUES (?, ?, ?)', [entity, key, stringifyJson(schema)]);
      if (entity !== 'profiles') await indexExisting(tx, d, OWNER_KIND[entity], schema);
    },
    events: () => [{ kind: 'metadata.created', details: { entity: `${entity} extension schema`, name: schema.name } }],
  };
}

const OWNER_KIND = { services: 'service', states: 'state', tasks: 'task' } as const;
const INDEX_PAGE = 1000;

/**
 * A schema with searchable attributes indexes the values already written under its name, in its
 * creation's transaction, a page at a time: a search then finds them as it finds later ones. Values
 * the schema would refuse are left out (the schema did not apply when they were written).
 */
async function indexExisting(tx: SqlWriter, d: Dialect, kind: ExtensionOwner['kind'], schema: ExtensionSchema): Promise<void> {
  if (!schema.attributes.some((a) => a.searchable)) return;
  const key = schema.name.toLowerCase();
  let after: bigint | number = -1;
  for (;;) {
    const rows: { owner_id: bigint | number; service_id: bigint; value: string }[] = await tx.all(
      'SELECT owner_id, service_id, value FROM extensions WHERE owner_kind = ? AND owner_id > ? AND name_key = ? ORDER BY owner_kind, owner_id LIMIT ?',
      [kind, after, key, INDEX_PAGE],
    );
    const writes = rows.flatMap((r): ExtensionWrite[] => {
      try {
        const value = validateExtensionValue(schema, parseStoredJson(r.value));
        return [{ kind, ownerId: r.owner_id, serviceId: BigInt(r.service_id), key, ext: { name: schema.name, value, indexed: indexedValues(schema, value) } }];
      } catch {
        return [];
      }
    });
    await replaceIndexedValues(tx, d, writes);
    if (rows.length < INDEX_PAGE) return;
    after = rows[rows.length - 1].owner_id;
  }
}

export async function listExtensionSchemas(read: SqlReader, entity: SchemaEntity): Promise<ExtensionSchema[]> {
  const rows = await read.all<{ definition: string }>('SELECT definition FROM extension_schemas WHERE entity = ? ORDER BY name_key', [entity]);
  return rows.map((r) => parseStoredJson(r.definition) as ExtensionSchema);
}

export function deleteExtensionSchema(d: Dialect, entity: SchemaEntity, name: string): Write<void, undefined> {
  const key = name.toLowerCase();
  return {
    plan: async (read) => {
      if (entity === 'profiles') {
        const user = await read.one<{ definition: string }>('SELECT definition FROM identification_keys WHERE source_key = ?', [key]);
        if (user) throw keyInUse(name, parseStoredJson(user.definition) as IdentificationKey);
      }
      if (!(await read.one(`SELECT 1 AS found FROM extension_schemas WHERE entity = ? AND name_key = ?${d.forUpdate}`, [entity, key]))) throw notFound('extension', name);
    },
    apply: async (tx) => {
      await tx.run('DELETE FROM extension_schemas WHERE entity = ? AND name_key = ?', [entity, key]);
      if (entity === 'profiles') await tx.run('DELETE FROM profile_extensions WHERE name_key = ?', [key]);
      // its indexed values go with it (the extensions stay, as free JSON)
      else await tx.run('DELETE FROM extension_values WHERE owner_kind = ? AND name_key = ?', [OWNER_KIND[entity], key]);
    },
  events: () => [{ kind: 'metadata.deleted', details: { entity: `${entity} extension schema`, name } }],
  };
}

export async function readKeys(read: SqlReader): Promise<IdentificationKey[]> {
  const rows = await read.all<{ key_id: number | bigint; definition: string }>('SELECT key_id, definition FROM identification_keys ORDER BY key_id');
  return rows.map((r) => ({ ...(parseStoredJson(r.definition) as NewIdentificationKey), id: Number(r.key_id) }));
}

interface KeyPlan {
  /** every existing profile's entries under the new key: [value, customer_id] */
  entries: [string, string][];
}

/** Creates the key and indexes every existing profile under it (Validation on a duplicate for unique keys). */
export function createIdentificationKey(d: Dialect, key: NewIdentificationKey): Write<IdentificationKey, KeyPlan> {
  return {
    plan: async (read) => {
      // key and profile writes serialize on this lock, so a profile written meanwhile is indexed too
      const lock = d.lockTable('identification_keys', 'SHARE ROW EXCLUSIVE');
      if (lock) await read.all(lock);
      if (await read.one('SELECT 1 AS found FROM identification_keys WHERE name_key = ?', [key.name.toLowerCase()])) {
        throw invalid(`an identification key named ${key.name} exists already`);
      }
      const owners = new Map<string, string>();
      const entries: [string, string][] = [];
      for (const profile of await readProfiles(read, d, null)) {
        for (const value of identityValues(profile, { ...key, id: 0 })) {
          const other = owners.get(value);
          if (key.unique && other !== undefined && other !== profile.customerId) throw duplicateIdentity({ ...key, id: 0 }, value);
          owners.set(value, profile.customerId);
          entries.push([value, profile.customerId]);
        }
      }
      return { entries };
    },
    apply: async (tx, { entries }) => {
      const row = await tx.one<{ key_id: number | bigint }>('INSERT INTO identification_keys (name_key, source_key, definition) VALUES (?, ?, ?) RETURNING key_id', [
        key.name.toLowerCase(),
        key.source?.toLowerCase() ?? null,
        stringifyJson(key),
      ]);
      const created: IdentificationKey = { ...key, id: Number(row!.key_id) };
      await insertIdentities(tx, d, entries.map(([value, customerId]) => [created.id, value, customerId, created.unique]));
      return created;
    },  events: (created) => [{ kind: 'metadata.created', details: { entity: 'identification key', name: created.name } }],
  };
}

export function deleteIdentificationKey(d: Dialect, name: string): Write<void, number> {
  return {
    plan: async (read) => {
      const row = await read.one<{ key_id: number | bigint }>(`SELECT key_id FROM identification_keys WHERE name_key = ?${d.forUpdate}`, [name.toLowerCase()]);
      if (!row) throw notFound('identification key', name);
      return Number(row.key_id);
    },
    apply: async (tx, keyId) => {
      await tx.run('DELETE FROM profile_identities WHERE key_id = ?', [keyId]);
      await tx.run('DELETE FROM identification_keys WHERE key_id = ?', [keyId]);
    },  events: () => [{ kind: 'metadata.deleted', details: { entity: 'identification key', name } }],
  };
}
