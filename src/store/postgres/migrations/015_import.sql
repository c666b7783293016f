-- Bulk import (#19): the records imported, by a digest of their content, with the service each
-- became. Importing the same file again finds its records here and adds nothing; the row goes with
-- its service.
CREATE TABLE imported_services (
  digest     TEXT PRIMARY KEY,
  service_id BIGINT NOT NULL REFERENCES services (service_id) ON DELETE CASCADE
);
CREATE INDEX imported_services_by_service ON imported_services (service_id);
