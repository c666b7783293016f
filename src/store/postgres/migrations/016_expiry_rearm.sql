-- A write re-arms a service's expiry through updated_at alone (#17: what a write costs; see
-- EXPIRES_AT in src/store/sql/services.ts): an expiry that is not fixed is now read as the last write
-- plus the lifetime, and expires_at is an early bound the sweep's index holds. Every service keeps
-- the expiry it had: one whose expires_at is not its last write plus its lifetime (written by hand,
-- or a ttl set by an older build's PUT) has its last write moved to match it.
UPDATE services SET updated_at = expires_at - lifetime_ms
  WHERE NOT expires_fixed AND expires_at IS NOT NULL AND expires_at <> updated_at + lifetime_ms;

-- Room on each page for the next versions of its rows. A write to a service's states or tasks now
-- changes no indexed column of its row, so PostgreSQL can keep the new version on the same page with
-- no new index entries (a HOT update) — when the page has room. Pages written from now on keep 30 %
-- free; pages already full gain room as their old versions are pruned.
ALTER TABLE services SET (fillfactor = 70);
