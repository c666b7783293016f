-- Rollup rows per write slot (src/store/sql/rollups.ts): concurrent batches add their deltas to rows
-- of their own (shard = the group commit's slot), so they never wait on each other's hot row; readers
-- sum the shards as they sum the hours. SQLite has one writer (its shard is always 0) and no way to
-- change a primary key: each table is built again with shard in its key.
CREATE TABLE state_hours_sharded (
  hour         INTEGER NOT NULL,
  state_type   TEXT NOT NULL,
  service_type TEXT NOT NULL,
  media_type   TEXT NOT NULL,
  shard        INTEGER NOT NULL DEFAULT 0,
  started      INTEGER NOT NULL,
  completed    INTEGER NOT NULL,
  removed      INTEGER NOT NULL,
  duration_sum INTEGER NOT NULL,
  duration_max INTEGER NOT NULL,
  PRIMARY KEY (hour, state_type, service_type, media_type, shard)
);
INSERT INTO state_hours_sharded (hour, state_type, service_type, media_type, started, completed, removed, duration_sum, duration_max)
  SELECT hour, state_type, service_type, media_type, started, completed, removed, duration_sum, duration_max FROM state_hours;
DROP TABLE state_hours;
ALTER TABLE state_hours_sharded RENAME TO state_hours;

CREATE TABLE state_hour_bins_sharded (
  hour         INTEGER NOT NULL,
  state_type   TEXT NOT NULL,
  service_type TEXT NOT NULL,
  media_type   TEXT NOT NULL,
  bin          INTEGER NOT NULL,
  shard        INTEGER NOT NULL DEFAULT 0,
  n            INTEGER NOT NULL,
  PRIMARY KEY (hour, state_type, service_type, media_type, bin, shard)
);
INSERT INTO state_hour_bins_sharded (hour, state_type, service_type, media_type, bin, n)
  SELECT hour, state_type, service_type, media_type, bin, n FROM state_hour_bins;
DROP TABLE state_hour_bins;
ALTER TABLE state_hour_bins_sharded RENAME TO state_hour_bins;

CREATE TABLE service_hours_sharded (
  hour         INTEGER NOT NULL,
  service_type TEXT NOT NULL,
  disposition  TEXT NOT NULL,
  shard        INTEGER NOT NULL DEFAULT 0,
  started      INTEGER NOT NULL,
  completed    INTEGER NOT NULL,
  removed      INTEGER NOT NULL,
  duration_sum INTEGER NOT NULL,
  duration_max INTEGER NOT NULL,
  PRIMARY KEY (hour, service_type, disposition, shard)
);
INSERT INTO service_hours_sharded (hour, service_type, disposition, started, completed, removed, duration_sum, duration_max)
  SELECT hour, service_type, disposition, started, completed, removed, duration_sum, duration_max FROM service_hours;
DROP TABLE service_hours;
ALTER TABLE service_hours_sharded RENAME TO service_hours;

CREATE TABLE service_hour_bins_sharded (
  hour         INTEGER NOT NULL,
  service_type TEXT NOT NULL,
  disposition  TEXT NOT NULL,
  bin          INTEGER NOT NULL,
  shard        INTEGER NOT NULL DEFAULT 0,
  n            INTEGER NOT NULL,
  PRIMARY KEY (hour, service_type, disposition, bin, shard)
);
INSERT INTO service_hour_bins_sharded (hour, service_type, disposition, bin, n)
  SELECT hour, service_type, disposition, bin, n FROM service_hour_bins;
DROP TABLE service_hour_bins;
ALTER TABLE service_hour_bins_sharded RENAME TO service_hour_bins;
