-- Rollup rows per write slot (src/store/sql/rollups.ts): concurrent batches on one node add their
-- deltas to rows of their own (shard = the group commit's slot), so they never wait on each other's
-- hot row; readers sum the shards as they sum the hours.
ALTER TABLE state_hours ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE state_hours DROP CONSTRAINT state_hours_pkey, ADD PRIMARY KEY (hour, state_type, service_type, media_type, shard);
ALTER TABLE state_hour_bins ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE state_hour_bins DROP CONSTRAINT state_hour_bins_pkey, ADD PRIMARY KEY (hour, state_type, service_type, media_type, bin, shard);
ALTER TABLE service_hours ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE service_hours DROP CONSTRAINT service_hours_pkey, ADD PRIMARY KEY (hour, service_type, disposition, shard);
ALTER TABLE service_hour_bins ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE service_hour_bins DROP CONSTRAINT service_hour_bins_pkey, ADD PRIMARY KEY (hour, service_type, disposition, bin, shard);
