-- Expiration and auto-complete (see the SQLite twin).
ALTER TABLE services ADD COLUMN lifetime_ms BIGINT NOT NULL DEFAULT 157680000000;
ALTER TABLE services ADD COLUMN expires_fixed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE services ADD COLUMN auto_complete_after_ms BIGINT;
UPDATE services SET expires_at = updated_at + lifetime_ms WHERE expires_at IS NULL;
UPDATE services SET expires_fixed = TRUE WHERE expires_at <> updated_at + lifetime_ms;
CREATE INDEX services_by_expiry ON services (expires_at);
