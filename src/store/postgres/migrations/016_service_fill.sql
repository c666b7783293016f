-- Room on each page of services for the next versions of its rows (#17: what a write costs). A write
-- to a service's states or tasks updates only its row's updated_at, no indexed column (the expiry is
-- re-armed through it: EXPIRES_AT in src/store/sql/services.ts), so PostgreSQL can keep the new
-- version on the same page with no new index entries (a HOT update) — when the page has room. Pages
-- written from now on keep 30 % free; pages already full gain room as their old versions are pruned.
ALTER TABLE services SET (fillfactor = 70);
