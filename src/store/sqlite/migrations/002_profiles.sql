-- Customer profiles, extension schemas, identification keys and their index.

CREATE TABLE extension_schemas (
  entity     TEXT NOT NULL,                         -- 'profiles' | 'services' | 'states' | 'tasks'
  name_key   TEXT NOT NULL,                         -- lower-cased name
  definition TEXT NOT NULL,                         -- JSON ExtensionSchema
  PRIMARY KEY (entity, name_key)
) WITHOUT ROWID;

CREATE TABLE identification_keys (
  key_id     INTEGER PRIMARY KEY AUTOINCREMENT,     -- creation order: the tie-breaker of key inference
  name_key   TEXT NOT NULL UNIQUE,
  source_key TEXT,                                  -- lower-cased profile extension name; NULL: core attributes
  definition TEXT NOT NULL                          -- JSON IdentificationKey
);

CREATE TABLE profiles (
  customer_id TEXT PRIMARY KEY,
  attributes  TEXT NOT NULL,                        -- JSON core attributes
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE profile_extensions (
  customer_id TEXT NOT NULL REFERENCES profiles (customer_id) ON DELETE CASCADE,
  name_key    TEXT NOT NULL,
  name        TEXT NOT NULL,
  value       TEXT NOT NULL,                        -- JSON record (single-valued) or array of records
  PRIMARY KEY (customer_id, name_key)
) WITHOUT ROWID;
CREATE INDEX profile_extensions_by_name ON profile_extensions (name_key);

-- One row per (key, encoded attribute values, customer): identification is an index range scan.
CREATE TABLE profile_identities (
  key_id      INTEGER NOT NULL REFERENCES identification_keys (key_id) ON DELETE CASCADE,
  value       TEXT NOT NULL,
  customer_id TEXT NOT NULL REFERENCES profiles (customer_id) ON DELETE CASCADE,
  is_unique   INTEGER NOT NULL,
  PRIMARY KEY (key_id, value, customer_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX profile_identities_unique ON profile_identities (key_id, value) WHERE is_unique = 1;
CREATE INDEX profile_identities_by_customer ON profile_identities (customer_id);
