-- A write re-arms a service's expiry through updated_at alone (as on PostgreSQL: see its twin and
-- EXPIRES_AT in src/store/sql/services.ts). Every service keeps the expiry it had: one whose
-- expires_at is not its last write plus its lifetime has its last write moved to match it.
UPDATE services SET updated_at = expires_at - lifetime_ms
  WHERE NOT expires_fixed AND expires_at IS NOT NULL AND expires_at <> updated_at + lifetime_ms;
