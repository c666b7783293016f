-- Expiration and auto-complete.
-- expires_at is kept current by every write: fixed (expiration_time) or re-armed as now + lifetime_ms
-- (ttl, the service type's expiration, or the configured default). Reads hide expired services at
-- once; a background sweep deletes them.
ALTER TABLE services ADD COLUMN lifetime_ms INTEGER NOT NULL DEFAULT 157680000000;   -- 5 years (365-day years)
ALTER TABLE services ADD COLUMN expires_fixed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE services ADD COLUMN auto_complete_after_ms INTEGER;
UPDATE services SET expires_at = updated_at + lifetime_ms WHERE expires_at IS NULL;
UPDATE services SET expires_fixed = 1 WHERE expires_at IS NOT NULL AND expires_at <> updated_at + lifetime_ms;
CREATE INDEX services_by_expiry ON services (expires_at);
