-- Finding services by what they hold (GET /services/search, #19).
-- The values of extension attributes whose schema marks them `searchable: true`: one row per value
-- (a multi-valued extension has one per record), on the service, state or task that carries it,
-- written in the transaction of the write that sets the extension and replaced with it. Strings and
-- booleans are compared as text; numbers, dates and date-times as numbers (dates and date-times in
-- epoch ms), exact for 64-bit integers.
CREATE TABLE extension_values (
  service_id   INTEGER NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
  owner_kind   TEXT NOT NULL,                       -- 'service' | 'state' | 'task'
  owner_id     INTEGER NOT NULL,
  name_key     TEXT NOT NULL,                       -- the extension, lower-cased
  attribute    TEXT NOT NULL,                       -- the attribute, lower-cased
  text_value   TEXT,
  number_value NUMERIC
);
CREATE INDEX extension_values_by_text ON extension_values (name_key, attribute, text_value, service_id) WHERE text_value IS NOT NULL;
CREATE INDEX extension_values_by_number ON extension_values (name_key, attribute, number_value, service_id) WHERE number_value IS NOT NULL;
-- replacing an element's values, and the cascade from services
CREATE INDEX extension_values_by_owner ON extension_values (service_id, owner_kind, owner_id, name_key);
-- The disposition of a completed service, as a column the search filters on (it was only in `doc`).
ALTER TABLE services ADD COLUMN disposition TEXT;
UPDATE services SET disposition = CAST(json_extract(doc, '$.disposition') AS TEXT) WHERE json_extract(doc, '$.disposition') IS NOT NULL;
