-- The outbox: every committed write's events, in commit order (src/store/sql/outbox.ts). The
-- stream and its resumption (Last-Event-ID) read it; the sweep trims what is older than the
-- retention (events.retention).
CREATE TABLE events (
  event_id    INTEGER PRIMARY KEY,                  -- from event_sequence: increases in commit order
  at          INTEGER NOT NULL,                     -- epoch ms, the write's business time
  kind        TEXT NOT NULL,                        -- service.started, state.ended, …
  service_id  INTEGER,
  customer_id TEXT,                                 -- the service's owner when written (or the profile's)
  contact_key TEXT,
  details     TEXT NOT NULL                         -- JSON: state_id, task_id, extension, purged, …
);
CREATE TABLE event_sequence (
  one     INTEGER PRIMARY KEY CHECK (one = 1),
  last_id INTEGER NOT NULL
);
INSERT INTO event_sequence (one, last_id) VALUES (1, 0);
