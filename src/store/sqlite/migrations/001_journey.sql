-- Services, states, tasks and their extensions.
-- Indexed columns carry what queries filter and sort on; `doc` holds the typed fields and the
-- started/completed events (see src/domain/lifecycle.ts ElementDoc).

CREATE TABLE services (
  service_id   INTEGER PRIMARY KEY AUTOINCREMENT,   -- 64-bit, never reused
  customer_id  TEXT,
  contact_key  TEXT,
  service_type TEXT,                                -- text form of the "long or string" value, for filters
  started_at   INTEGER NOT NULL,                    -- epoch ms of started.timestamp
  completed_at INTEGER,                             -- epoch ms of completed.timestamp; NULL while active
  expires_at   INTEGER,                             -- per-service expiry (ttl / expiration_time), epoch ms
  updated_at   INTEGER NOT NULL,                    -- last write to the service or its states/tasks
  doc          TEXT NOT NULL
);

-- "What is this customer in the middle of?": one range scan per customer, oldest first.
CREATE INDEX services_by_customer ON services (customer_id, started_at, service_id)
  WHERE customer_id IS NOT NULL;
CREATE INDEX services_active_by_customer ON services (customer_id, started_at, service_id)
  WHERE customer_id IS NOT NULL AND completed_at IS NULL;
-- Anonymous services by contact key (the only ones the anonymous queries return).
CREATE INDEX services_anonymous_by_contact ON services (contact_key, started_at, service_id)
  WHERE customer_id IS NULL;

CREATE TABLE states (
  state_id     INTEGER PRIMARY KEY AUTOINCREMENT,   -- 32-bit, across the store
  service_id   INTEGER NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
  state_type   TEXT,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER,
  doc          TEXT NOT NULL
);
CREATE INDEX states_by_service ON states (service_id, started_at, state_id);

CREATE TABLE tasks (
  task_id      INTEGER PRIMARY KEY AUTOINCREMENT,   -- 32-bit, across the store
  service_id   INTEGER NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
  state_id     INTEGER,
  task_type    TEXT,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER,
  doc          TEXT NOT NULL
);
CREATE INDEX tasks_by_service ON tasks (service_id, started_at, task_id);

CREATE TABLE extensions (
  owner_kind TEXT NOT NULL,                         -- 'service' | 'state' | 'task'
  owner_id   INTEGER NOT NULL,
  service_id INTEGER NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
  name_key   TEXT NOT NULL,                         -- lower-cased name: names compare case-insensitively
  name       TEXT NOT NULL,                         -- as last written
  value      TEXT NOT NULL,                         -- JSON
  PRIMARY KEY (owner_kind, owner_id, name_key)
) WITHOUT ROWID;
CREATE INDEX extensions_by_service ON extensions (service_id);
