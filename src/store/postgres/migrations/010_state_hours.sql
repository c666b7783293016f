-- Time in state (#17, src/store/sql/state-hours.ts): each state counts in the hour it started, per
-- state type, service type and media type: started, completed, removed (deleted while open), the sum
-- and maximum of the completed ones' durations, and their durations as DDSketch bins. The rows are
-- kept in the transaction of each write. States stored before this migration are not counted
-- (counted = FALSE): their ends and deletions leave the rollups alone.
ALTER TABLE states ADD COLUMN media_type TEXT;
ALTER TABLE states ADD COLUMN counted BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE state_hours (
  hour         BIGINT NOT NULL,                      -- epoch hour of the states' start
  state_type   TEXT NOT NULL,                        -- '' when absent
  service_type TEXT NOT NULL,
  media_type   TEXT NOT NULL,
  started      BIGINT NOT NULL,
  completed    BIGINT NOT NULL,
  removed      BIGINT NOT NULL,                      -- deleted while open (purge, expiry, erase, delete)
  duration_sum BIGINT NOT NULL,                      -- ms, of the completed ones
  duration_max BIGINT NOT NULL,
  PRIMARY KEY (hour, state_type, service_type, media_type)
);

CREATE TABLE state_hour_bins (
  hour         BIGINT NOT NULL,
  state_type   TEXT NOT NULL,
  service_type TEXT NOT NULL,
  media_type   TEXT NOT NULL,
  bin          INTEGER NOT NULL,                     -- DDSketch bin of the duration (-1: zero)
  n            BIGINT NOT NULL,
  PRIMARY KEY (hour, state_type, service_type, media_type, bin)
);
