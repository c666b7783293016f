-- A write's rollup deltas ride on its events (#17: what analytics costs a write; see
-- src/store/sql/rollups.ts): its batch writes them, merged, on its last event row, and the fold adds
-- them to the rollup rows behind. rollup_position is how far the fold got: a report sums the rows and
-- the deltas of the events after it. Every event written before this migration was counted in the
-- rows already, so the fold starts after the last of them.
ALTER TABLE events ADD COLUMN rollup TEXT;
CREATE TABLE rollup_position (
  one           INTEGER PRIMARY KEY CHECK (one = 1),
  last_event_id BIGINT NOT NULL
);
INSERT INTO rollup_position (one, last_event_id) SELECT 1, last_id FROM event_sequence;
