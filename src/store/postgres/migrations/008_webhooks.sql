-- Webhooks (src/store/sql/webhooks.ts): each is a relay of the outbox (event_relays row
-- 'webhook:<id>') to an HTTP receiver. Events that failed wait in webhook_retries, in order per
-- ordering key (a service, or a customer), until they are delivered or dead-lettered; every attempt is
-- kept in webhook_deliveries for the events retention. Events carry their service's type, which
-- webhooks filter on.
ALTER TABLE events ADD COLUMN service_type TEXT;

CREATE TABLE webhooks (
  webhook_id    TEXT PRIMARY KEY,
  url           TEXT NOT NULL,
  kinds         TEXT NOT NULL,                      -- JSON array of event kinds; [] = every kind
  customer_id   TEXT,                               -- only this customer's events
  service_types TEXT NOT NULL,                      -- JSON array of service types; [] = any
  secret        TEXT NOT NULL,                      -- whsec_<base64>: the signing key (Standard Webhooks)
  include_extensions BOOLEAN NOT NULL DEFAULT FALSE, -- extension events carry the extension's value
  description   TEXT,
  created_at    BIGINT NOT NULL
);

CREATE TABLE webhook_retries (
  webhook_id   TEXT NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
  event_id     BIGINT NOT NULL,
  ordering_key TEXT NOT NULL,                       -- events of one key go out in event order
  attempts     INTEGER NOT NULL,                    -- attempts made so far
  first_at     BIGINT NOT NULL,                    -- epoch ms: when the event was first due
  next_at      BIGINT NOT NULL,                    -- epoch ms: the next attempt; WAITING behind an earlier event of its key
  dead         BOOLEAN NOT NULL DEFAULT FALSE,      -- dead-lettered: retried for the whole retry period
  PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_retries_by_key ON webhook_retries (webhook_id, ordering_key, event_id);
CREATE INDEX webhook_retries_due ON webhook_retries (webhook_id, dead, next_at);

CREATE TABLE webhook_deliveries (
  delivery_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id  TEXT NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
  event_id    BIGINT NOT NULL,
  kind        TEXT NOT NULL,
  attempt     INTEGER NOT NULL,                     -- 1 for the first try of an event
  at          BIGINT NOT NULL,                     -- epoch ms: when it was sent
  status      INTEGER,                              -- the receiver's HTTP status; NULL without an answer
  latency_ms  INTEGER NOT NULL,
  error       TEXT,
  outcome     TEXT NOT NULL                         -- delivered | failed (retried) | dead (dead-lettered)
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, delivery_id);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (at);
