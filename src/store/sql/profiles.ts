// Customer profiles, their extensions and their identification-key index, written once for both stores.
import { DomainError, invalid, notFound } from '../../domain/errors.js';
import { parseStoredJson, stringifyJson } from '../../domain/json.js';
import { identitiesOf, type IdentificationKey, type ProfileData } from '../../domain/profiles.js';
import { groupExtensions, type ExtensionRow } from '../codec.js';
import type { ColumnType, Dialect, SqlReader, SqlWriter } from './dialect.js';
import { readKeys } from './metadata.js';
import type { Write } from './write.js';

type Identity = ReturnType<typeof identitiesOf>[number];

export function duplicateIdentity(key: IdentificationKey, value: string): DomainError {
  const shown = value.split('|').filter(Boolean).map(decodeURIComponent).join(', ');
  return invalid(`identification key ${key.name} is unique and another customer already has ${key.attributes.join(', ')} = ${shown}`);
}

/** The smallest text greater than every text that starts with `prefix` (index texts never hold U+007F). */
function upperBound(prefix: string): string {
  return `${prefix}\u007f`;
}

/** Profiles with their extensions; `null`: every profile. Inside a write, `lock` holds their rows. */
export async function readProfiles(read: SqlReader, d: Dialect, customerIds: string[] | null, lock = false): Promise<ProfileData[]> {
  if (customerIds !== null && customerIds.length === 0) return [];
  const where = customerIds === null ? '' : ` WHERE ${d.inList('customer_id', 'text')}`;
  const params = customerIds === null ? [] : [d.list(customerIds)];
  const profiles = await read.all<{ customer_id: string; attributes: string }>(
    `SELECT customer_id, attributes FROM profiles${where} ORDER BY customer_id${lock ? d.forUpdate : ''}`,
    params,
  );
  const extensions = groupExtensions(await read.all<ExtensionRow>(`SELECT customer_id AS owner_id, name_key, name, value FROM profile_extensions${where} ORDER BY name_key`, params));
  return profiles.map((p) => ({
    customerId: p.customer_id,
    attributes: parseStoredJson(p.attributes) as Record<string, unknown>,
    extensions: extensions.get(p.customer_id) ?? new Map(),
  }));
}

interface ProfilePlan {
  profile: ProfileData;
  entries: Identity[];
}

/** Reads the keys and checks the profile's unique key values against other customers. */
async function planSave(read: SqlReader, d: Dialect, profile: ProfileData): Promise<ProfilePlan> {
  // shares the lock that key creation takes exclusively: no key is created between reading the keys and indexing
  const lock = d.lockTable('identification_keys', 'ROW EXCLUSIVE');
  if (lock) await read.all(lock);
  const keys = await readKeys(read);
  const entries = identitiesOf(profile, keys);
  const unique = entries.filter((e) => e.unique);
  if (unique.length > 0) {
    const types: ColumnType[] = ['int', 'text'];
    const taken = await read.one<{ key_id: number | bigint; value: string }>(
      `SELECT key_id, value FROM profile_identities
       WHERE is_unique = TRUE AND customer_id <> ? AND (key_id, value) IN (SELECT c0, c1 FROM ${d.rows(types)})`,
      [profile.customerId, ...d.rowParams(types, unique.map((e) => [e.keyId, e.value]))],
    );
    if (taken) throw duplicateIdentity(keys.find((k) => k.id === Number(taken.key_id))!, taken.value);
  }
  return { profile, entries };
}

const PROFILE_EXTENSION_TYPES: ColumnType[] = ['text', 'text', 'text'];
const IDENTITY_TYPES: ColumnType[] = ['int', 'text', 'text', 'boolean'];

/** Writes the profile's extensions and index entries (after its old ones were deleted). */
async function applySave(tx: SqlWriter, d: Dialect, { profile, entries }: ProfilePlan): Promise<void> {
  const extensions = [...profile.extensions].map(([key, ext]) => [key, ext.name, stringifyJson(ext.value)]);
  if (extensions.length > 0) {
    await tx.run(`INSERT INTO profile_extensions (customer_id, name_key, name, value) SELECT ?, c0, c1, c2 FROM ${d.rows(PROFILE_EXTENSION_TYPES)}`, [
      profile.customerId,
      ...d.rowParams(PROFILE_EXTENSION_TYPES, extensions),
    ]);
  }
  await insertIdentities(tx, d, entries.map((e) => [e.keyId, e.value, profile.customerId, e.unique]));
}

/** Index entries as [key_id, value, customer_id, is_unique]; one already there stays. */
export async function insertIdentities(tx: SqlWriter, d: Dialect, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  await tx.run(
    `INSERT INTO profile_identities (key_id, value, customer_id, is_unique) SELECT c0, c1, c2, c3 FROM ${d.rows(IDENTITY_TYPES)} WHERE TRUE ON CONFLICT DO NOTHING`,
    d.rowParams(IDENTITY_TYPES, rows),
  );
}

export function createProfile(d: Dialect, profile: ProfileData): Write<void, ProfilePlan> {
  return {
    plan: async (read) => {
      if (await read.one('SELECT 1 AS found FROM profiles WHERE customer_id = ?', [profile.customerId])) throw invalid(`customer_id ${profile.customerId} is taken`);
      return planSave(read, d, profile);
    },
    apply: async (tx, plan, now) => {
      await tx.run('INSERT INTO profiles (customer_id, attributes, created_at, updated_at) VALUES (?, ?, ?, ?)', [profile.customerId, stringifyJson(profile.attributes), now, now]);
      await applySave(tx, d, plan);
    },  events: () => [{ kind: 'profile.created', customerId: profile.customerId }],
  };
}

export function updateProfile(d: Dialect, customerId: string, change: (current: ProfileData) => ProfileData): Write<void, ProfilePlan> {
  return {
    plan: async (read) => {
      const [current] = await readProfiles(read, d, [customerId], true);
      if (!current) throw notFound('profile', customerId);
      return planSave(read, d, { ...change(current), customerId });
    },
    apply: async (tx, plan, now) => {
      await tx.run('UPDATE profiles SET attributes = ?, updated_at = ? WHERE customer_id = ?', [stringifyJson(plan.profile.attributes), now, customerId]);
      await tx.run('DELETE FROM profile_extensions WHERE customer_id = ?', [customerId]);
      await tx.run('DELETE FROM profile_identities WHERE customer_id = ?', [customerId]);
      await applySave(tx, d, plan);
    },  events: () => [{ kind: 'profile.updated', customerId }],
  };
}

export function deleteProfile(d: Dialect, customerId: string): Write<void, undefined> {
  return {
    plan: async (read) => {
      if (!(await read.one(`SELECT 1 AS found FROM profiles WHERE customer_id = ?${d.forUpdate}`, [customerId]))) throw notFound('profile', customerId);
    },
    // extensions and index entries go with it (ON DELETE CASCADE); services are kept
    apply: async (tx) => void (await tx.run('DELETE FROM profiles WHERE customer_id = ?', [customerId])),  events: () => [{ kind: 'profile.deleted', customerId }],
  };
}

/** The query of identification, as production runs it (the index test EXPLAINs this text). */
export const IDENTIFY_BY_PREFIX = 'SELECT DISTINCT customer_id FROM profile_identities WHERE key_id = ? AND value >= ? AND value < ? ORDER BY customer_id';

/** Customers whose index entry for the key equals `text` (exact) or starts with it. */
export async function findCustomers(read: SqlReader, keyId: number, text: string, exact: boolean): Promise<string[]> {
  const rows = exact
    ? await read.all<{ customer_id: string }>('SELECT DISTINCT customer_id FROM profile_identities WHERE key_id = ? AND value = ? ORDER BY customer_id', [keyId, text])
    : await read.all<{ customer_id: string }>(IDENTIFY_BY_PREFIX, [keyId, text, upperBound(text)]);
  return rows.map((r) => r.customer_id);
}
