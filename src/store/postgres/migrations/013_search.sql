-- Finding journeys (GET /services/search; the console's search box and overview, #18/#19).
-- A contact key stays on its service when the service is associated with a customer; the console
-- finds the customer by it, so the index covers every service, not only anonymous ones (the anonymous
-- queries filter customer_id IS NULL on the same index).
DROP INDEX services_anonymous_by_contact;
CREATE INDEX services_by_contact ON services (contact_key, started_at, service_id) WHERE contact_key IS NOT NULL;
-- The overview: the newest active services across customers.
CREATE INDEX services_active_by_start ON services (started_at, service_id) WHERE completed_at IS NULL;
-- Per-store settings: the key that signs search cursors, made once here so that every node sharing the
-- store accepts the others' cursors.
CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO settings (name, value) VALUES ('cursor_key', md5(random()::text || clock_timestamp()::text) || md5(gen_random_uuid()::text));
