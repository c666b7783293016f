-- Time in state and outcomes (#17, src/store/sql/rollups.ts): each state counts in the hour it
-- started, per state type, service type and media type, and each service per service type and
-- disposition (none until it completes): started, completed, removed (deleted while open), the sum
-- and maximum of the completed ones' durations, and their durations as DDSketch bins. The rows are
-- kept in the transaction of each write. States and services stored before this migration are not
-- counted (counted = FALSE): their ends and deletions leave the rollups alone.
ALTER TABLE states ADD COLUMN media_type TEXT;
ALTER TABLE states ADD COLUMN counted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE services ADD COLUMN counted BOOLEAN NOT NULL DEFAULT FALSE;

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

CREATE TABLE service_hours (
  hour         BIGINT NOT NULL,
  service_type TEXT NOT NULL,
  disposition  TEXT NOT NULL,                        -- '' while open, and for services completed without one
  started      BIGINT NOT NULL,
  completed    BIGINT NOT NULL,
  removed      BIGINT NOT NULL,
  duration_sum BIGINT NOT NULL,
  duration_max BIGINT NOT NULL,
  PRIMARY KEY (hour, service_type, disposition)
);

CREATE TABLE service_hour_bins (
  hour         BIGINT NOT NULL,
  service_type TEXT NOT NULL,
  disposition  TEXT NOT NULL,
  bin          INTEGER NOT NULL,
  n            BIGINT NOT NULL,
  PRIMARY KEY (hour, service_type, disposition, bin)
);
