-- Idempotent retries: the first 2xx answer to a request carrying an Idempotency-Key, replayed to
-- its retries until it is older than the retention (then the sweep deletes it).
CREATE TABLE idempotency_keys (
  idem_key    TEXT PRIMARY KEY,                     -- the client's Idempotency-Key
  fingerprint TEXT NOT NULL,                        -- method, path and body digest of the first request
  status      INTEGER NOT NULL,
  location    TEXT,
  body        TEXT NOT NULL,
  created_at  INTEGER NOT NULL                        -- epoch ms
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
